// What the host provides to a plugin. Outside a component (node --test)
// there is no host: the test harness passes read models of its own. The
// handler build replaces this file with host.handler.js.
export const readModel = null;
