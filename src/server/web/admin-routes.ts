import type { AgnesApp } from '../app.js';
import type { AppServices } from '../services.js';

export async function adminPages(_app: AgnesApp, _services: AppServices): Promise<void> {}
