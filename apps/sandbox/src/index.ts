export {
  createSandbox,
  type Sandbox,
  type SandboxEvents,
  type SandboxOptions,
  type SandboxSettings,
  type SandboxStats,
  type SandboxTaskInfo,
  type SubmitFailureStatus,
} from "./sandbox";
export { type StartedSandbox, sandboxOptionsFromEnv, startSandbox } from "./server";
