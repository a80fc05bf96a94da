// A handler component's host imports; plugins/build-polyglot puts this file
// in place of host.js when it bundles a handler.
export * as readModel from "cairn:plugin/read-model@0.2.0";
