import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TOOLS = `${ROOT}.tools`;
export const VENV = `${TOOLS}/venv`;
export const PYTHON = `${VENV}/bin/python`;
export const CLI = `${ROOT}bin/hybridctl`;
/** moto is pinned so a new release cannot change what the tests check against. */
export const MOTO_REQUIREMENT = 'moto[server]==5.2.5';
