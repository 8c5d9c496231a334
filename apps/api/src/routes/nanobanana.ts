import express, { type Router } from "express";
import type { DoorDeps, DoorRouterOptions } from "../doors/deps";

/** Placeholder: the nanobanana door is not served yet. */
export function createNanobananaDoor(_deps: DoorDeps, _options: DoorRouterOptions): Router {
  return express.Router();
}
