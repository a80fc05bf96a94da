// The Cairn plugin SDK for JavaScript (contract cairn:plugin@0.2.0).
//
// Authors define an aggregate, a migrator or a handler with plain objects
// and functions that take and return plain values, and throw Rejected or
// Invalid. The SDK owns the JSON text on the boundary, batches, and turning
// exceptions into the contract's errors. The plugin module exports what a
// define function returns under the interface's name:
//
//   export const aggregate = defineAggregate({ type: "ticket", initialState, apply, decide });
//
// The same objects run under `node --test` through ./testing.js.

import { readModel } from "./host.js";

/** A business rule refused the command; the caller sees the message as it is. */
export class Rejected extends Error {
  constructor(message) {
    super(message);
    this.name = "Rejected";
  }
}

/** Input the plugin cannot understand: a missing field, an unknown type. */
export class Invalid extends Error {
  constructor(message) {
    super(message);
    this.name = "Invalid";
  }
}

/** The contract's error variant for anything thrown. */
export function toWireError(error) {
  if (error instanceof Rejected) return { tag: "rejected", val: error.message };
  if (error instanceof Invalid) return { tag: "invalid", val: error.message };
  const name = error && error.name ? error.name : "Error";
  const message = error && error.message !== undefined ? error.message : String(error);
  return { tag: "internal", val: `${name}: ${message}` };
}

function parse(text, what) {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Invalid(`${what} is not JSON: ${error.message}`);
  }
}

function write(value, what) {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`${what} cannot be written as JSON`);
  return text;
}

// The host's `events` text: a JSON array; the envelope's keys are present
// only when the plugin asked for them. Events are handed over as parsed.
function parseEvents(text) {
  const events = parse(text, "the events");
  if (!Array.isArray(events)) throw new Invalid("the events are not a JSON array");
  return events;
}

function newEvents(decided) {
  if (decided === undefined || decided === null) return [];
  return decided.map((event, index) => {
    const [eventType, payload, schemaVersion] = Array.isArray(event)
      ? [event[0], event[1], event[2] ?? "1.0"]
      : [event.event_type, event.payload, event.schema_version ?? "1.0"];
    if (typeof eventType !== "string" || eventType === "") {
      throw new TypeError(`decided event ${index + 1} has no event_type; return [eventType, payload] pairs or { event_type, payload }`);
    }
    return { eventType, schemaVersion: String(schemaVersion), payload: write(payload ?? null, `the payload of ${eventType}`) };
  });
}

function required(definition, names, kind) {
  const missing = names.filter((name) => typeof definition[name] !== "function");
  if (missing.length > 0) throw new TypeError(`the ${kind} lacks ${missing.join(", ")}`);
}

/**
 * An aggregate: { type, stateVersion?, snapshotEvery?, wantsEnvelope?,
 * initialState(aggregateId), apply(state, event) -> state (or undefined to
 * keep a mutated state), decide(state, command) -> events }.
 */
export function defineAggregate(definition) {
  required(definition, ["initialState", "apply", "decide"], "aggregate");
  if (typeof definition.type !== "string" || definition.type === "") throw new TypeError("the aggregate needs a type");
  const wantsEnvelope = Boolean(definition.wantsEnvelope);
  return {
    describe() {
      return {
        aggregateType: definition.type,
        stateVersion: String(definition.stateVersion ?? "1"),
        snapshotEvery: definition.snapshotEvery ?? null,
        wantsEnvelope,
      };
    },
    initialState(aggregateId) {
      return write(definition.initialState(aggregateId), "the initial state");
    },
    apply(stateText, aggregateId, eventsText) {
      try {
        const events = parseEvents(eventsText);
        // Folding nothing changes nothing: the state goes back as it came.
        if (events.length === 0) return stateText;
        let state = parse(stateText, "the state");
        for (const event of events) {
          if (!wantsEnvelope) {
            event.aggregate_type = definition.type;
            event.aggregate_id = aggregateId;
          }
          const folded = definition.apply(state, event);
          if (folded !== undefined) state = folded;
        }
        return write(state, "the state");
      } catch (error) {
        throw toWireError(error);
      }
    },
    decide(stateText, command) {
      try {
        const state = parse(stateText, "the state");
        return newEvents(
          definition.decide(state, {
            command_type: command.commandType,
            command_id: command.commandId,
            aggregate_id: command.aggregateId,
            payload: parse(command.payload, "the command payload"),
            metadata: parse(command.metadata, "the command metadata"),
          }),
        );
      } catch (error) {
        throw toWireError(error);
      }
    },
    definition,
  };
}

/**
 * A migrator: { steps: [[eventType, fromVersion, toVersion], ...],
 * wantsEnvelope?, migrate(payload, event) -> payload at the step's
 * to-version }.
 */
export function defineMigrator(definition) {
  required(definition, ["migrate"], "migrator");
  const steps = (definition.steps ?? []).map((step) => (Array.isArray(step) ? step : [step.eventType, step.fromVersion, step.toVersion]));
  const known = new Set(steps.map(([eventType, fromVersion]) => `${eventType}\u0000${fromVersion}`));
  const migrateOne = (event) => {
    if (!known.has(`${event.event_type}\u0000${event.schema_version}`)) {
      throw new Invalid(`no step of this migrator reads ${event.event_type} at version ${event.schema_version}`);
    }
    return write(definition.migrate(event.payload, event), `the migrated payload of ${event.event_type}`);
  };
  return {
    describe() {
      return {
        steps: steps.map(([eventType, fromVersion, toVersion]) => ({ eventType, fromVersion, toVersion })),
        wantsEnvelope: Boolean(definition.wantsEnvelope),
      };
    },
    migrate(eventsText) {
      let events;
      try {
        events = parseEvents(eventsText);
      } catch (error) {
        return [{ tag: "err", val: toWireError(error) }];
      }
      return events.map((event) => {
        try {
          return { tag: "ok", val: { payload: migrateOne(event), metadata: null } };
        } catch (error) {
          return { tag: "err", val: toWireError(error) };
        }
      });
    },
    definition,
    migrateOne,
  };
}

/**
 * A handler: { name, eventTypes?, aggregateTypes?, wantsEnvelope? (default
 * true), handle(event, readModels), endBatch?(readModels) }. readModels has
 * get(collection, key, fallback), put(collection, key, value) and
 * delete(collection, key), on plain values.
 */
export function defineHandler(definition) {
  required(definition, ["handle"], "handler");
  if (typeof definition.name !== "string" || definition.name === "") throw new TypeError("the handler needs a name");
  return {
    describe() {
      return {
        name: definition.name,
        eventTypes: definition.eventTypes ?? [],
        aggregateTypes: definition.aggregateTypes ?? [],
        wantsEnvelope: definition.wantsEnvelope ?? true,
      };
    },
    handle(eventsText, store = readModel) {
      let index = 0;
      try {
        const readModels = readModelsOver(store);
        const events = parseEvents(eventsText);
        for (index = 0; index < events.length; index++) definition.handle(events[index], readModels);
        if (typeof definition.endBatch === "function") {
          index = Math.max(events.length - 1, 0);
          definition.endBatch(readModels);
        }
      } catch (error) {
        // The contract's failure record: which event failed, and why.
        throw { index, error: toWireError(error) };
      }
    },
    definition,
  };
}

/** Plain values over a store of JSON text (the host's read models, or a Map in tests). */
export function readModelsOver(store) {
  if (!store) throw new TypeError("no read models: outside a component, run handlers through cairn-plugin/testing");
  return {
    get(collection, key, fallback = null) {
      const text = store.get(collection, key);
      return text === null || text === undefined ? fallback : JSON.parse(text);
    },
    put(collection, key, value) {
      store.put(collection, key, write(value, `document ${collection}/${key}`));
    },
    delete(collection, key) {
      store.delete(collection, key);
    },
  };
}
