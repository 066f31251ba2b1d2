import { DescribeInstanceAttributeCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { type Server, createServer } from 'node:http';
import { type Socket, connect } from 'node:net';
import type { Clients } from './inventory.ts';
import { freePort } from './moto.ts';

/** A fake node created for an EC2 instance. */
export interface BootedNode {
  instanceId: string;
  name: string;
  listen: string;
  role: string;
}

export interface NodeProxy {
  /** `http://127.0.0.1:<port>`, for grpc_proxy / https_proxy. */
  url: string;
  nodes(): BootedNode[];
  /** CONNECT targets seen, in order. */
  connects: string[];
  stop(): Promise<void>;
}

/**
 * The bastion between hybridctl and the EC2 instances, as an HTTP CONNECT proxy. A connection to
 * an instance's private address, or to the load balancer's DNS name (which forwards to a
 * registered control plane), goes to a fake Talos node that booted from that instance's
 * user-data, read back from moto; the fleet validates it with Talos's machinery in cloud mode.
 */
export async function startNodeProxy(options: {
  aws: Clients;
  fleetStatusUrl: string;
  subnet: string;
  bootDelay?: string;
  /** Fixed `host:port` → `ip:port` forwards, e.g. the load balancer's Kubernetes listener to a test API server. */
  routes?: Record<string, string>;
  /** Listen here (a kubeconfig's proxy-url may have to name it before the proxy starts). */
  port?: number;
  /** Make the nodes' WireGuard links, and put their private addresses, in this network namespace (the VPC). */
  netns?: string;
}): Promise<NodeProxy> {
  const booted = new Map<string, BootedNode>();
  const booting = new Map<string, Promise<BootedNode>>();
  const connects: string[] = [];
  let next = 10;

  async function instances() {
    const result = await options.aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['running'] }] }));
    return (result.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  }

  /** Starts the fake node of an instance on first contact, as if it had booted from its user-data (once, however many connect). */
  function boot(instanceId: string): Promise<BootedNode> {
    let pending = booting.get(instanceId);
    if (!pending) {
      pending = start(instanceId);
      booting.set(instanceId, pending);
      pending.catch(() => booting.delete(instanceId));
    }
    return pending;
  }

  async function start(instanceId: string): Promise<BootedNode> {
    const instance = (await instances()).find((i) => i.InstanceId === instanceId);
    if (!instance?.PrivateIpAddress) throw new Error(`instance ${instanceId} is not running`);
    const userData = await options.aws.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'userData' }));
    // The VPN gateway (role tag `gateway`) is a Talos worker.
    const role = instance.Tags?.find((t) => t.Key === 'hybridctl.dev/role')?.Value === 'controlplane' ? 'controlplane' : 'worker';
    const node: BootedNode = { instanceId, name: instance.PrivateIpAddress, listen: `${options.subnet}.${next++}`, role };
    const response = await fetch(`${options.fleetStatusUrl}/nodes`, {
      method: 'POST',
      body: JSON.stringify({
        listen: node.listen,
        name: node.name,
        role,
        platform: 'cloud',
        configBase64: userData.UserData?.Value ?? '',
        bootDelay: options.bootDelay ?? '300ms',
        ...(options.netns ? { netns: options.netns } : {}),
      }),
    });
    if (!response.ok) throw new Error(`the fake node for ${instanceId} refused its user-data: ${await response.text()}`);
    const status = (await response.json()) as { ip: string };
    const started = { ...node, listen: status.ip };
    booted.set(instanceId, started);
    return started;
  }

  /** Terminated instances take their fake nodes (and etcd members) with them. */
  async function forgetTerminated(running: { InstanceId?: string }[]): Promise<void> {
    for (const [id, node] of booted) {
      if (running.some((i) => i.InstanceId === id)) continue;
      booted.delete(id);
      booting.delete(id);
      await fetch(`${options.fleetStatusUrl}/nodes?name=${node.name}`, { method: 'DELETE' });
    }
  }

  /** Where a CONNECT target goes: an instance by private address, or the load balancer to a registered control plane. */
  async function route(host: string): Promise<BootedNode | undefined> {
    const running = await instances();
    await forgetTerminated(running);
    // Instances boot when they are launched, whoever connects first.
    await Promise.all(running.flatMap((i) => (i.InstanceId ? [boot(i.InstanceId)] : [])));
    const byAddress = running.find((i) => i.PrivateIpAddress === host);
    if (byAddress?.InstanceId) return boot(byAddress.InstanceId);
    const balancers = (await options.aws.elb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
    const lb = balancers.find((b) => b.DNSName === host);
    if (!lb) return undefined;
    const groups = (await options.aws.elb.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).TargetGroups ?? [];
    const talos = groups.find((g) => g.Port === 50000);
    if (!talos) return undefined;
    const targets = (await options.aws.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: talos.TargetGroupArn }))).TargetHealthDescriptions ?? [];
    const registered = targets.map((t) => t.Target?.Id ?? '').filter((id) => running.some((i) => i.InstanceId === id)).sort();
    for (const id of registered) {
      const node = await boot(id);
      if (await reachable(node.listen)) return node;
    }
    return registered[0] ? boot(registered[0]) : undefined;
  }

  const server: Server = createServer((_req, res) => res.writeHead(405).end());
  // A tunnel's sockets leave the server's bookkeeping once upgraded: kept here so stop() ends them
  // (a fake node's own keep-alive connection through the proxy would otherwise hold close() forever).
  const tunnels = new Set<Socket>();
  server.on('connect', (req, client: Socket, head: Buffer) => {
    tunnels.add(client);
    client.on('close', () => tunnels.delete(client));
    const [host = '', port = ''] = (req.url ?? '').split(':');
    connects.push(`${host}:${port}`);
    const fixed = options.routes?.[`${host}:${port}`];
    if (fixed) {
      const [ip = '', to = ''] = fixed.split(':');
      tunnel(client, head, ip, Number(to));
      return;
    }
    route(host)
      .then((node) => {
        if (!node || port !== '50000') {
          client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
          return;
        }
        tunnel(client, head, node.listen, 50000);
      })
      .catch((error: unknown) => client.end(`HTTP/1.1 502 Bad Gateway\r\nX-Reason: ${String((error as Error).message).replace(/[\r\n]/g, ' ')}\r\n\r\n`));
  });
  const port = options.port ?? (await freePort());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    nodes: () => [...booted.values()],
    connects,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        for (const socket of tunnels) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function tunnel(client: Socket, head: Buffer, host: string, port: number): void {
  const upstream = connect(port, host, () => {
    client.on('close', () => upstream.destroy());
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
  client.on('error', () => upstream.destroy());
}

function reachable(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(50000, host, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
