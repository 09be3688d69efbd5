/**
 * The control packets (everything but PUBLISH and its acknowledgements) in object form. The field
 * names are mqtt-packet's, which MQTT.js users know and which our config maps onto.
 */

export type QoS = 0 | 1 | 2;

/** User Properties by name; a name sent more than once keeps every value, in order. */
export interface UserProperties {
  [name: string]: string | string[];
}

/** MQTT 5 properties; which ones a packet may carry is checked when it is decoded. */
export interface Properties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  subscriptionIdentifier?: number;
  sessionExpiryInterval?: number;
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  authenticationMethod?: string;
  authenticationData?: Buffer;
  requestProblemInformation?: boolean;
  willDelayInterval?: number;
  requestResponseInformation?: boolean;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  topicAlias?: number;
  maximumQoS?: number;
  retainAvailable?: boolean;
  userProperties?: UserProperties;
  maximumPacketSize?: number;
  wildcardSubscriptionAvailable?: boolean;
  subscriptionIdentifiersAvailable?: boolean;
  sharedSubscriptionAvailable?: boolean;
}

export interface ConnectWill {
  topic: string;
  payload: Buffer | string;
  qos?: QoS;
  retain?: boolean;
  properties?: Properties;
}

export interface IConnectPacket {
  cmd: "connect";
  clientId: string;
  protocolVersion?: 3 | 4 | 5;
  protocolId?: "MQTT" | "MQIsdp";
  clean?: boolean;
  keepalive?: number;
  username?: string;
  password?: Buffer;
  will?: ConnectWill;
  properties?: Properties;
  /** The packet's bytes, fixed header included (set by the decoder). */
  raw?: Buffer;
}

export interface IConnackPacket {
  cmd: "connack";
  sessionPresent: boolean;
  /** MQTT 3 and 3.1.1 */
  returnCode?: number;
  /** MQTT 5 */
  reasonCode?: number;
  properties?: Properties;
}

export interface ISubscription {
  topic: string;
  qos: QoS;
  nl?: boolean;
  rap?: boolean;
  rh?: number;
}

export interface ISubscribePacket {
  cmd: "subscribe";
  messageId?: number;
  subscriptions: ISubscription[];
  properties?: Properties;
}

export interface ISubackPacket {
  cmd: "suback";
  messageId?: number;
  granted: number[];
  properties?: Properties;
}

export interface IUnsubscribePacket {
  cmd: "unsubscribe";
  messageId?: number;
  unsubscriptions: string[];
  properties?: Properties;
}

export interface IUnsubackPacket {
  cmd: "unsuback";
  messageId?: number;
  /** MQTT 5 reason codes, one per filter; MQTT 3 has none. */
  granted?: number[];
  properties?: Properties;
}

export interface IPingreqPacket {
  cmd: "pingreq";
}

export interface IPingrespPacket {
  cmd: "pingresp";
}

export interface IDisconnectPacket {
  cmd: "disconnect";
  reasonCode?: number;
  properties?: Properties;
}

export interface IAuthPacket {
  cmd: "auth";
  reasonCode: number;
  properties?: Properties;
}

/** An acknowledgement with a reason string (MQTT 5); plain ones go as packed numbers. */
export interface IReasonedAckPacket {
  cmd: "puback" | "pubrec";
  messageId: number;
  reasonCode: number;
  properties?: Properties;
}

/** Every control packet, either direction. */
export type MqttPacket =
  | IConnectPacket
  | IConnackPacket
  | ISubscribePacket
  | ISubackPacket
  | IUnsubscribePacket
  | IUnsubackPacket
  | IPingreqPacket
  | IPingrespPacket
  | IDisconnectPacket
  | IAuthPacket
  | IReasonedAckPacket;
