import { execa } from 'execa';
import { ROOT } from './paths.ts';

export const SERVICE_BIN = `${ROOT}.cache/bin/service`;

/** The sample service's binaries (readings, loadgen, probe, shipper), built for this machine; the Go build cache makes re-runs quick. */
export async function buildServiceBinaries(): Promise<string> {
  await execa('go', ['build', '-trimpath', '-o', `${SERVICE_BIN}/`, './cmd/readings', './cmd/loadgen', './cmd/probe', './cmd/shipper'], {
    cwd: `${ROOT}service`,
    env: { CGO_ENABLED: '0' },
  });
  return SERVICE_BIN;
}
