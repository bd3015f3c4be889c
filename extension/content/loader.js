// Content scripts cannot be modules; this one loads the real entry point as a module.
(async () => {
  const ext = globalThis.browser ?? globalThis.chrome;
  const main = await import(ext.runtime.getURL("content/main.js"));
  main.start();
})();
