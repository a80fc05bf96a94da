// Types of the Cairn plugin SDK for JavaScript (contract cairn:plugin@0.2.0).

/** A JSON value, as payloads, metadata and state are. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A stored event as a plugin sees it. The envelope's keys (id, metadata,
 * correlation_id, causation_id, user_id, source) are present only when the
 * plugin sets `wantsEnvelope`; aggregates always see their stream. */
export interface StoredEvent<Payload = any> {
  event_type: string;
  schema_version: string;
  stream_version: number;
  global_position: number;
  timestamp: string;
  payload: Payload;
  aggregate_type?: string;
  aggregate_id?: string;
  id?: string;
  metadata?: { [key: string]: Json };
  correlation_id?: string | null;
  causation_id?: string | null;
  user_id?: string | null;
  source?: string | null;
}

export interface Command<Payload = any> {
  command_type: string;
  command_id: string;
  aggregate_id: string;
  payload: Payload;
  metadata: { [key: string]: Json };
}

/** A decided event: [eventType, payload], [eventType, payload, schemaVersion], or an object. */
export type NewEvent = [string, Json] | [string, Json, string] | { event_type: string; payload: Json; schema_version?: string };

/** A business rule refused the command; the caller sees the message as it is. */
export class Rejected extends Error {}
/** Input the plugin cannot understand: a missing field, an unknown type. */
export class Invalid extends Error {}

export interface AggregateDefinition<State = any> {
  type: string;
  stateVersion?: string;
  snapshotEvery?: number | null;
  wantsEnvelope?: boolean;
  initialState(aggregateId: string): State;
  /** Returns the new state, or undefined to keep `state` as mutated. */
  apply(state: State, event: StoredEvent): State | void;
  decide(state: State, command: Command): NewEvent[] | null | undefined;
}

export interface MigratorDefinition {
  /** [eventType, fromVersion, toVersion] for each step. */
  steps: Array<[string, string, string]>;
  wantsEnvelope?: boolean;
  /** The payload at the step's to-version. */
  migrate(payload: any, event: StoredEvent): Json;
}

export interface ReadModels {
  get<T = any>(collection: string, key: string, fallback?: T): T;
  put(collection: string, key: string, value: Json): void;
  delete(collection: string, key: string): void;
}

export interface HandlerDefinition {
  name: string;
  eventTypes?: string[];
  aggregateTypes?: string[];
  /** Defaults to true: most handlers key their documents by stream. */
  wantsEnvelope?: boolean;
  handle(event: StoredEvent, readModels: ReadModels): void;
  endBatch?(readModels: ReadModels): void;
}

/** What the plugin module exports as `aggregate`, `migrator` or `handler`. */
export interface Exported<D> {
  definition: D;
  describe(): any;
}

export function defineAggregate<State>(definition: AggregateDefinition<State>): Exported<AggregateDefinition<State>>;
export function defineMigrator(definition: MigratorDefinition): Exported<MigratorDefinition>;
export function defineHandler(definition: HandlerDefinition): Exported<HandlerDefinition>;
