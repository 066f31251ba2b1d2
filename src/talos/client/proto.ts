import { fileURLToPath } from 'node:url';
import { type GrpcObject, type ServiceClientConstructor, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const PROTO_DIR = fileURLToPath(new URL('../../../proto/talos/', import.meta.url));
const COSI_PROTO_DIR = fileURLToPath(new URL('../../../proto/cosi/', import.meta.url));
const LOADER_OPTIONS = { keepCase: false, longs: String, enums: String, defaults: true } as const;

let machineService: ServiceClientConstructor | undefined;
let stateService: ServiceClientConstructor | undefined;

/** The MachineService client class, from our own proto files (loaded once). */
export function machineServiceClient(): ServiceClientConstructor {
  if (!machineService) {
    const definition = loadSync('machine.proto', { includeDirs: [PROTO_DIR], ...LOADER_OPTIONS });
    const root = loadPackageDefinition(definition) as GrpcObject & { machine: { MachineService: ServiceClientConstructor } };
    machineService = root.machine.MachineService;
  }
  return machineService;
}

/** COSI's State service client class: Talos serves its resources (links, addresses) through it. */
export function stateServiceClient(): ServiceClientConstructor {
  if (!stateService) {
    const definition = loadSync('state.proto', { includeDirs: [COSI_PROTO_DIR], ...LOADER_OPTIONS });
    const root = loadPackageDefinition(definition) as GrpcObject & { cosi: { resource: { State: ServiceClientConstructor } } };
    stateService = root.cosi.resource.State;
  }
  return stateService;
}

/** apid's per-node metadata on every message of a response. */
export interface NodeMetadata {
  hostname: string;
  error: string;
  /** The gRPC status of a per-node failure (apid fills it when it could not reach the node). */
  status?: { code: number; message: string } | null;
}

export interface VersionMessage {
  metadata?: NodeMetadata;
  version?: { tag: string; sha: string; os: string; arch: string };
  platform?: { name: string; mode: string };
}

export interface ApplyConfigurationMessage {
  metadata?: NodeMetadata;
  warnings: string[];
  mode: ApplyMode;
  modeDetails: string;
}

export type ApplyMode = 'REBOOT' | 'AUTO' | 'NO_REBOOT' | 'STAGED' | 'TRY';

export interface EtcdMember {
  id: string;
  hostname: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export interface EtcdMembersMessage {
  metadata?: NodeMetadata;
  members: EtcdMember[];
}

export interface ServiceInfo {
  id: string;
  state: string;
  health?: { unknown: boolean; healthy: boolean; lastMessage: string };
}

export interface ServiceListMessage {
  metadata?: NodeMetadata;
  services: ServiceInfo[];
}

export interface DataMessage {
  metadata?: NodeMetadata;
  bytes: Buffer;
}

/** Every response is `{ messages: [...] }`, one message per node. */
export interface Messages<T> {
  messages: T[];
}

/** One COSI resource as Talos serves it: metadata, and the spec as YAML. */
export interface ResourceMessage {
  metadata?: { namespace: string; type: string; id: string; version: string; phase: string };
  spec?: { yamlSpec: string };
}

/** Interface counters (uint64 as decimal strings). */
export interface NetDevMessage {
  name: string;
  rxBytes: string;
  rxPackets: string;
  txBytes: string;
  txPackets: string;
}

export interface NetworkDeviceStatsMessage {
  metadata?: NodeMetadata;
  devices: NetDevMessage[];
}
