import type { Exported, AggregateDefinition, MigratorDefinition, HandlerDefinition, Json } from "./index.js";

export const TEST_TIMESTAMP: string;

type GivenEvent = [string, Json] | { event_type: string; payload: Json };

export class AggregateTest {
  constructor(exported: Exported<AggregateDefinition>, aggregateId?: string);
  given(events: GivenEvent[]): this;
  state(): any;
  when(commandType: string, payload?: Json, metadata?: Json): {
    thenEvents(expected: GivenEvent[]): void;
    thenRejected(text?: string): void;
    thenInvalid(text?: string): void;
  };
}

export class MigratorTest {
  constructor(exported: Exported<MigratorDefinition>, eventType: string, schemaVersion: string);
  given(payload: Json): this;
  thenPayload(expected: Json): void;
  thenInvalid(text?: string): void;
}

export class HandlerTest {
  constructor(exported: Exported<HandlerDefinition>);
  given(aggregateType: string, aggregateId: string, events: GivenEvent[]): this;
  document(collection: string, key: string): any;
  thenDocument(collection: string, key: string, expected: Json): this;
  thenNoDocument(collection: string, key: string): this;
  thenFailed(index: number, tag: "rejected" | "invalid" | "internal", text?: string): this;
}
