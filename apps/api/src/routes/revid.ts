import express, { type Router } from "express";
import type { DoorDeps, DoorRouterOptions } from "../doors/deps";

/** Placeholder: the revid door is not served yet. */
export function createRevidDoor(_deps: DoorDeps, _options: DoorRouterOptions): Router {
  return express.Router();
}
