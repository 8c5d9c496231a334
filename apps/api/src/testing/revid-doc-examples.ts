/**
 * Document 004's three curl request examples, byte for byte: the text between `-d '` and the
 * closing quote (the edit example's closing quote is missing in the document; its JSON ends at
 * the last brace). curl sends them with no Content-Type of the caller's choosing (`-d` implies
 * `application/x-www-form-urlencoded`) and the header `x-api-key: YOUR_API_KEY`.
 */
export const revidDocExamples = {
  "google/nano-banana": `{
"model": "google/nano-banana",
"callBackUrl": "https://your-domain.com/api/callback",
"input": {
"prompt": "A surreal painting of a giant banana floating in space, stars and galaxies in the background, vibrant colors, digital art",
"output_format": "png",
"image_size": "1:1"
}
}`,
  "google/nano-banana-edit": `{
"model": "google/nano-banana-edit",
"callBackUrl": "https://your-domain.com/api/callback",
"input": {
"prompt": "turn this photo into a character figure. Behind it, place a box with the character’s image printed on it, and a computer showing the Blender modeling process on its screen. In front of the box, add a round plastic base with the character figure standing on it. set the scene indoors if possible",
"image_urls": [
"https://file.aiquickdraw.com/custom-page/akr/section-images/1756223420389w8xa2jfe.png"
],
"output_format": "png",
"image_size": "1:1"
}
}`,
  "nano-banana-pro": `{
"model": "nano-banana-pro",
"callBackUrl": "https://your-domain.com/api/callback",
"input": {
"prompt": "Comic poster: cool banana hero in shades leaps from sci-fi pad. Six panels: 1) 4K mountain landscape, 2) banana holds page of long multilingual text with auto translation, 3) Gemini 3 hologram for search/knowledge/reasoning, 4) camera UI sliders for angle focus color, 5) frame trio 1:1-9:16, 6) consistent banana poses. Footer shows Google icons. Tagline: Nano Banana Pro now on Revid API.",
"aspect_ratio": "1:1",
"resolution": "1K",
"output_format": "png"
}
}`,
} as const;
