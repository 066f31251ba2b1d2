import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Sidero Labs' AWS account: where hybridctl looks for official Talos images. */
export const SIDERO = '540036508848';

/** An AMI as moto's MOTO_AMIS_PATH file describes one. */
export function ami(id: string, name: string, owner: string, arch: 'amd64' | 'arm64') {
  return {
    ami_id: id,
    name,
    owner_id: owner,
    description: `Talos (${name})`,
    state: 'available',
    public: true,
    image_location: `${owner}/${name}`,
    root_device_type: 'ebs',
    root_device_name: '/dev/xvda',
    image_type: 'machine',
    architecture: arch === 'amd64' ? 'x86_64' : 'arm64',
    virtualization_type: 'hvm',
    hypervisor: 'xen',
    sriov: 'simple',
    creation_date: '2026-08-18T14:14:19.000Z',
  };
}

/** Writes the AMIs to a file for MOTO_AMIS_PATH; by default the example's Talos release in eu-central-1. */
export function writeAmis(amis = [ami('ami-000000000000000a', 'talos-v1.13.9-eu-central-1-amd64', SIDERO, 'amd64'), ami('ami-010000000000000a', 'talos-v1.13.9-eu-central-1-arm64', SIDERO, 'arm64')]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'hybridctl-amis-')), 'amis.json');
  writeFileSync(file, JSON.stringify(amis));
  return file;
}
