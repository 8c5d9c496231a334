export { type ProviderFaults, parseSandboxFaults, type SandboxFaults } from "./faults";
export {
  createSandbox,
  type DialectSettings,
  type Sandbox,
  type SandboxEvents,
  type SandboxOptions,
  type SandboxSettings,
  type SandboxStats,
  type SandboxTaskInfo,
  type SubmitFailureStatus,
} from "./sandbox";
export { type StartedSandbox, sandboxOptionsFromEnv, startSandbox } from "./server";
