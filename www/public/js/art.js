// Product pictures: the catalogue has no images we may ship, so each category gets a drawn
// placeholder (inline SVG), tinted per product so neighbouring cards differ.

const HUES = {
  apparel: 210, footwear: 25, outdoors: 120, electronics: 200, beauty: 330, jewelry: 45,
  accessories: 280, housewares: 15, homedecor: 170, furniture: 30, groceries: 90, floral: 300,
  seasonal: 0, books: 230, instruments: 260, tools: 50,
};

// One simple line drawing per category, on a 100×100 canvas.
const GLYPHS = {
  apparel: '<path d="M35 22 L22 32 L28 44 L34 40 L34 80 L66 80 L66 40 L72 44 L78 32 L65 22 Q50 32 35 22 Z"/>',
  footwear: '<path d="M18 62 L20 42 Q30 44 38 40 L48 52 Q66 54 80 62 Q84 70 78 72 L22 72 Q16 70 18 62 Z"/><path d="M22 66 L80 66"/>',
  outdoors: '<path d="M14 76 L40 34 L54 56 L64 44 L86 76 Z"/><circle cx="72" cy="26" r="7"/>',
  electronics: '<rect x="20" y="24" width="60" height="40" rx="3"/><path d="M42 64 L40 76 L60 76 L58 64"/><path d="M34 76 L66 76"/>',
  beauty: '<rect x="38" y="40" width="24" height="40" rx="4"/><rect x="43" y="26" width="14" height="14" rx="2"/><path d="M46 26 L46 18 L56 18"/>',
  jewelry: '<circle cx="50" cy="58" r="20"/><path d="M40 30 L50 20 L60 30 L50 40 Z"/>',
  accessories: '<path d="M26 40 L74 40 L78 78 L22 78 Z"/><path d="M38 40 Q38 24 50 24 Q62 24 62 40"/>',
  housewares: '<path d="M28 34 L64 34 L62 76 Q46 80 30 76 Z"/><path d="M64 44 Q78 44 76 56 Q74 66 62 64"/>',
  homedecor: '<path d="M36 22 L64 22 L72 46 L28 46 Z"/><path d="M50 46 L50 72"/><path d="M36 78 L64 78 L58 72 L42 72 Z"/>',
  furniture: '<path d="M32 20 L32 80"/><path d="M32 52 L70 52 L70 80"/><path d="M32 20 Q34 36 32 52"/><path d="M32 62 L70 62"/>',
  groceries: '<path d="M50 34 Q30 24 24 44 Q22 70 40 78 Q50 74 60 78 Q78 70 76 44 Q70 24 50 34 Z"/><path d="M50 34 Q50 24 58 18"/>',
  floral: '<circle cx="50" cy="40" r="8"/><circle cx="50" cy="24" r="8"/><circle cx="64" cy="36" r="8"/><circle cx="58" cy="52" r="8"/><circle cx="42" cy="52" r="8"/><circle cx="36" cy="36" r="8"/><path d="M50 56 L50 84"/><path d="M50 72 Q60 64 66 68"/>',
  seasonal: '<path d="M50 16 L59 40 L84 40 L64 55 L72 80 L50 65 L28 80 L36 55 L16 40 L41 40 Z"/>',
  books: '<path d="M50 28 Q36 20 20 24 L20 76 Q36 72 50 80 Q64 72 80 76 L80 24 Q64 20 50 28 Z"/><path d="M50 28 L50 80"/>',
  instruments: '<circle cx="40" cy="64" r="14"/><circle cx="54" cy="56" r="10"/><path d="M56 50 L80 22"/><path d="M76 18 L84 26"/>',
  tools: '<path d="M30 76 L60 46"/><circle cx="66" cy="38" r="12"/><path d="M66 26 L66 38 L78 38"/><circle cx="28" cy="78" r="4"/>',
};

function hash(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** An inline SVG picture for a product (or a category when `id` is omitted). */
export function picture(category, id = category) {
  const h = (HUES[category] ?? 200) + ((hash(id) % 30) - 15);
  const light = 88 + (hash(id + 'l') % 8);
  const glyph = GLYPHS[category] ?? '<circle cx="50" cy="50" r="24"/>';
  return `<svg class="pic" viewBox="0 0 100 100" role="img" aria-label="${category}">
<defs><linearGradient id="g${hash(id)}" x1="0" y1="0" x2="1" y2="1">
<stop offset="0" stop-color="hsl(${h} 70% ${light}%)"/><stop offset="1" stop-color="hsl(${h + 25} 60% ${light - 10}%)"/></linearGradient></defs>
<rect width="100" height="100" fill="url(#g${hash(id)})"/>
<g fill="hsl(${h} 45% 96%)" stroke="hsl(${h} 45% 32%)" stroke-width="3" stroke-linejoin="round" stroke-linecap="round">${glyph}</g>
</svg>`;
}
