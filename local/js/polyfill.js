// aws-local-stepfunctions 3 calls Promise.withResolvers in every Task state;
// Node 20 does not have it (Node 22 does). Import this module before running a
// state machine.
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers() {
      let resolve;
      let reject;
      const promise = new this((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
