export {
  builtConsoleDir,
  bundleConsoleSources,
  type ConsoleBundle,
  consoleBundle,
  consoleRouter,
} from "./serve";
