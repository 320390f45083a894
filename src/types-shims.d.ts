// Minimal typings for small untyped dependencies.
declare module 'color-name' {
  const colours: Record<string, [number, number, number]>;
  export default colours;
}
declare module 'wink-eng-lite-web-model' {
  const model: unknown;
  export default model;
}
