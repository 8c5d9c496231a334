export {
  applyPriceOverrides,
  configurePrices,
  configurePricesOrExit,
  getModel,
  modelIds,
  models,
} from "./catalog";
export { type NanoBananaInput, nanoBanana, nanoBananaEdit } from "./nano-banana";
export { nanoBanana2, nanoBanana2Lite } from "./nano-banana-2";
export { type NanoBananaProInput, nanoBananaPro } from "./nano-banana-pro";
export { type Seedream4Input, seedream4 } from "./seedream4";
export {
  type VideoInput,
  type VideoModelId,
  type VideoPrices,
  videoModelLimits,
  videoModels,
  videoPriceKey,
} from "./video";
