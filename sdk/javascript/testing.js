// Test plugins under `node --test`, with no WebAssembly, through the same
// glue the component runs: events and commands cross as JSON text, and
// failures come back as the contract's errors.
//
//   test("withdrawing too much is rejected", () => {
//     new AggregateTest(aggregate, "acc-1")
//       .given([["AccountOpened", { owner: "Ann" }]])
//       .when("Withdraw", { amount: 5 })
//       .thenRejected("insufficient funds");
//   });

import assert from "node:assert/strict";

export const TEST_TIMESTAMP = "2000-01-01T00:00:00.000000Z";

function split(event) {
  return Array.isArray(event) ? [event[0], event[1] ?? {}] : [event.event_type, event.payload ?? {}];
}

function eventsText(events, envelope) {
  return JSON.stringify(
    events.map(({ eventType, payload, streamVersion, globalPosition, schemaVersion, stream }) => ({
      event_type: eventType,
      schema_version: schemaVersion ?? "1.0",
      stream_version: streamVersion,
      global_position: globalPosition,
      timestamp: TEST_TIMESTAMP,
      payload,
      ...(envelope
        ? {
            id: `00000000-0000-7000-8000-${String(globalPosition).padStart(12, "0")}`,
            aggregate_type: stream[0],
            aggregate_id: stream[1],
            metadata: {},
            correlation_id: null,
            causation_id: null,
            user_id: null,
            source: null,
          }
        : {}),
    })),
  );
}

function expectError(outcome, tag, text) {
  assert.ok(outcome && outcome.tag, `expected ${tag} containing ${JSON.stringify(text)}, but the plugin answered ${JSON.stringify(outcome)}`);
  assert.equal(outcome.tag, tag, `expected ${tag}, got ${outcome.tag}: ${outcome.val}`);
  assert.ok(outcome.val.includes(text), `expected ${tag} containing ${JSON.stringify(text)}, got: ${outcome.val}`);
}

/** Given events, when a command, then events, a rejection or an invalid-input error. */
export class AggregateTest {
  constructor(exported, aggregateId = "test-1") {
    this.exported = exported;
    this.aggregateId = aggregateId;
    this.events = [];
  }

  given(events) {
    this.events.push(...events.map(split));
    return this;
  }

  /** The state the given events fold into, through the component's own `apply`. */
  state() {
    const { exported, aggregateId } = this;
    const info = exported.describe();
    const text = eventsText(
      this.events.map(([eventType, payload], index) => ({ eventType, payload, streamVersion: index + 1, globalPosition: index + 1, stream: [info.aggregateType, aggregateId] })),
      info.wantsEnvelope,
    );
    return JSON.parse(exported.apply(exported.initialState(aggregateId), aggregateId, text));
  }

  when(commandType, payload = {}, metadata = {}) {
    const command = {
      commandId: "00000000-0000-7000-8000-00000000c0de",
      commandType,
      aggregateId: this.aggregateId,
      payload: typeof payload === "string" ? payload : JSON.stringify(payload),
      metadata: JSON.stringify(metadata),
    };
    let outcome;
    try {
      outcome = this.exported.decide(JSON.stringify(this.state()), command).map((event) => [event.eventType, JSON.parse(event.payload)]);
    } catch (error) {
      outcome = error;
    }
    return new Then(outcome);
  }
}

class Then {
  constructor(outcome) {
    this.outcome = outcome;
  }

  thenEvents(expected) {
    assert.ok(Array.isArray(this.outcome), `expected events, but the command failed: ${JSON.stringify(this.outcome)}`);
    assert.deepEqual(this.outcome, expected.map(split));
  }

  thenRejected(text = "") {
    expectError(this.outcome, "rejected", text);
  }

  thenInvalid(text = "") {
    expectError(this.outcome, "invalid", text);
  }
}

/** This payload in, that one out, through the migrator's own `migrate`. */
export class MigratorTest {
  constructor(exported, eventType, schemaVersion) {
    Object.assign(this, { exported, eventType, schemaVersion, payload: {} });
  }

  given(payload) {
    this.payload = payload;
    return this;
  }

  outcome() {
    const envelope = this.exported.describe().wantsEnvelope;
    const text = eventsText([{ eventType: this.eventType, schemaVersion: this.schemaVersion, payload: this.payload, streamVersion: 1, globalPosition: 1, stream: ["test", "test-1"] }], envelope);
    const [answer] = this.exported.migrate(text);
    return answer.tag === "ok" ? { payload: JSON.parse(answer.val.payload) } : answer.val;
  }

  thenPayload(expected) {
    const outcome = this.outcome();
    assert.ok("payload" in outcome, `expected a payload, but the migrator failed: ${outcome.tag}: ${outcome.val}`);
    assert.deepEqual(outcome.payload, expected);
  }

  thenInvalid(text = "") {
    expectError(this.outcome(), "invalid", text);
  }
}

/**
 * Given events, then read-model documents, kept in memory. Events are
 * filtered by the handler's declared types, as the host does; each `given`
 * is one batch, and a failing batch keeps the writes of the events before
 * the failure, as the host commits them.
 */
export class HandlerTest {
  constructor(exported) {
    this.exported = exported;
    this.documents = new Map();
    this.globalPosition = 0;
    this.versions = new Map();
    this.failure = null;
  }

  given(aggregateType, aggregateId, events) {
    const info = this.exported.describe();
    const batch = [];
    const indices = [];
    events.map(split).forEach(([eventType, payload], index) => {
      this.globalPosition += 1;
      const stream = `${aggregateType}\u0000${aggregateId}`;
      this.versions.set(stream, (this.versions.get(stream) ?? 0) + 1);
      if (info.eventTypes.length > 0 && !info.eventTypes.includes(eventType)) return;
      if (info.aggregateTypes.length > 0 && !info.aggregateTypes.includes(aggregateType)) return;
      indices.push(index);
      batch.push({ eventType, payload, streamVersion: this.versions.get(stream), globalPosition: this.globalPosition, stream: [aggregateType, aggregateId] });
    });
    const run = (events, documents) => this.exported.handle(eventsText(events, info.wantsEnvelope), memoryStore(documents));
    const attempt = new Map(this.documents);
    try {
      run(batch, attempt);
      this.documents = attempt;
      this.failure = null;
    } catch (failure) {
      const kept = new Map(this.documents);
      if (failure.index > 0) run(batch.slice(0, failure.index), kept);
      this.documents = kept;
      this.failure = { index: indices[failure.index] ?? failure.index, error: failure.error };
    }
    return this;
  }

  document(collection, key) {
    const text = this.documents.get(`${collection}\u0000${key}`);
    return text === undefined ? null : JSON.parse(text);
  }

  thenDocument(collection, key, expected) {
    const document = this.document(collection, key);
    assert.notEqual(document, null, `there is no document ${collection}/${key}`);
    assert.deepEqual(document, expected);
    return this;
  }

  thenNoDocument(collection, key) {
    assert.equal(this.document(collection, key), null, `document ${collection}/${key} exists`);
    return this;
  }

  thenFailed(index, tag, text = "") {
    assert.ok(this.failure, `expected the batch to fail at event ${index}, but it succeeded`);
    assert.equal(this.failure.index, index, `the failure names event ${this.failure.index}`);
    expectError(this.failure.error, tag, text);
    return this;
  }
}

function memoryStore(documents) {
  return {
    get: (collection, key) => documents.get(`${collection}\u0000${key}`) ?? null,
    put: (collection, key, value) => void documents.set(`${collection}\u0000${key}`, value),
    delete: (collection, key) => void documents.delete(`${collection}\u0000${key}`),
  };
}
