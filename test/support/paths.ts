import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TOOLS = `${ROOT}.tools`;
export const VENV = `${TOOLS}/venv`;
export const PYTHON = `${VENV}/bin/python`;
export const CLI = `${ROOT}bin/hybridctl`;
