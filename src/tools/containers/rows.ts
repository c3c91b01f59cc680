/** Compact shapes of engine documents: the fields people read, nothing empty. */
import Type from 'typebox';
import { shortId } from '../params.ts';

export const ContainerRow = Type.Object({
  id: Type.String(),
  name: Type.String(),
  image: Type.String(),
  state: Type.String(),
  status: Type.String(),
  ports: Type.Optional(Type.Array(Type.String())),
});

interface EnginePort {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

export const portText = (p: EnginePort) =>
  p.PublicPort
    ? `${p.IP ?? ''}${p.IP ? ':' : ''}${p.PublicPort}->${p.PrivatePort}/${p.Type}`
    : `${p.PrivatePort}/${p.Type}`;

export function containerRow(c: {
  Id: string;
  Names?: string[];
  Image: string;
  State: string;
  Status: string;
  Ports?: EnginePort[];
}) {
  // The engine lists a port once per address family; show each mapping once.
  const ports = [...new Set((c.Ports ?? []).map(portText).map((p) => p.replace(/^::?:/, '')))];
  return {
    id: shortId(c.Id),
    name: (c.Names?.[0] ?? '').replace(/^\//, ''),
    image: c.Image.startsWith('sha256:') ? shortId(c.Image) : c.Image,
    state: c.State,
    status: c.Status,
    ...(ports.length > 0 && { ports }),
  };
}

/** The state block every lifecycle tool returns. */
export const ContainerState = Type.Object({
  id: Type.String(),
  name: Type.String(),
  state: Type.String(),
  exit_code: Type.Optional(Type.Integer()),
  health: Type.Optional(Type.String()),
});
