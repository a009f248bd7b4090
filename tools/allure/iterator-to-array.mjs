// Allure 3.18's quality gate calls Iterator.prototype.toArray(), which Node.js has only from 22 on; the README's
// Node.js is 20. tools/allure/quality-gate preloads this file (node --import) to add that one method where missing.
const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
if (typeof iteratorPrototype.toArray !== "function") {
  Object.defineProperty(iteratorPrototype, "toArray", {
    value: function toArray() {
      return Array.from({ [Symbol.iterator]: () => this });
    },
    writable: true,
    configurable: true,
  });
}
