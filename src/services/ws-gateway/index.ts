export { WS_PATH, WsGateway } from './gateway.js';
export { type GatewayIdentity, type GatewayPort, identityOf } from './port.js';
export { type GatewaySettings, gatewaySettings } from './settings.js';
