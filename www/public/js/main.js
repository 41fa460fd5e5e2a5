// The storefront: routing, pages and the debug panel. Recommendations come from edgerec in this
// tab (js/engine.js); this file only asks for them, shows them and reports what the visitor does.
import * as engine from './engine.js';
import { picture } from './art.js';

const $ = (sel, root = document) => root.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const money = (n) => `$${Number(n).toFixed(2)}`;
const title = (s) => s.charAt(0).toUpperCase() + s.slice(1);
const main = $('#main');

const shop = { products: [], byId: new Map(), categories: [], personas: [], descriptions: null };
const ROW_SIZE = 12;
const DEVICE = matchMedia('(max-width: 700px)').matches ? 'mobile' : 'desktop';
const store = (window.__store = { ready: false, firstRecsAt: null, engine: engine.state, errors: [] });

// ---- who is shopping --------------------------------------------------------------------------

function newId(prefix) {
  return `${prefix}-${crypto.randomUUID()}`;
}

function visitor() {
  const persona = localStorage.getItem('persona') ?? '';
  const key = `session:${persona || 'anonymous'}`;
  let sessionId = localStorage.getItem(key);
  if (!sessionId) {
    sessionId = newId('s');
    localStorage.setItem(key, sessionId);
  }
  return persona ? { sessionId, userId: persona } : { sessionId };
}

const who = () => visitor().userId ?? visitor().sessionId;
const persona = () => shop.personas.find((p) => p.userId === visitor().userId);

function log() {
  return JSON.parse(localStorage.getItem(`log:${who()}`) ?? '[]');
}

async function track(events) {
  const entries = events.map((e) => ({ eventType: e.eventType, itemId: e.itemId, at: Date.now() }));
  localStorage.setItem(`log:${who()}`, JSON.stringify([...entries.reverse(), ...log()].slice(0, 50)));
  await engine.track(visitor(), events);
}

// ---- cart ---------------------------------------------------------------------------------------

const cart = {
  get: () => JSON.parse(localStorage.getItem(`cart:${who()}`) ?? '[]'),
  set: (lines) => {
    localStorage.setItem(`cart:${who()}`, JSON.stringify(lines));
    renderCartCount();
  },
  add(id) {
    const lines = cart.get();
    const line = lines.find((l) => l.id === id);
    if (line) line.qty += 1;
    else lines.push({ id, qty: 1 });
    cart.set(lines);
  },
};

function renderCartCount() {
  const n = cart.get().reduce((s, l) => s + l.qty, 0);
  $('#cart-count').textContent = n ? String(n) : '';
}

// ---- recommendation rows -------------------------------------------------------------------------

/** Items shown per row on the last render of each page, to mark what is new when it returns. */
const shownByPage = new Map();
let previous = new Map();
let current = new Map();
/** The row and recommendation id of the card the visitor clicked (for the View event). */
let clicked = null;

function request(extra) {
  return { userId: who(), numResults: ROW_SIZE, context: { DEVICE }, ...extra };
}

function ask(req) {
  try {
    // An experiment's variant may answer with another recommender: the answer names it.
    return { recommender: req.recommender, ...engine.recommend(req) };
  } catch (e) {
    store.errors.push(`${req.recommender}: ${e.message}`);
    return { itemList: [], recommendationId: null, error: e };
  }
}

function card(p, extra = '', fresh = false) {
  return `<a class="card${fresh ? ' fresh' : ''}" href="#/p/${esc(p.id)}" data-item="${esc(p.id)}" data-category="${esc(p.category)}" ${extra}>
  ${picture(p.category, p.id)}
  <span class="name">${esc(p.name)}</span>
  <span class="meta"><span class="price">${money(p.price)}</span>${p.promoted ? '<span class="badge">Deal</span>' : ''}</span>
</a>`;
}

/** A row of recommendations: title, "why" line, the cards, and what produced them. */
function row(name, heading, why, res, opts = {}) {
  const items = res.itemList.map((x) => shop.byId.get(x.itemId)).filter(Boolean);
  const before = previous.get(name);
  current.set(name, items.map((p) => p.id));
  const ids = items.map((p) => p.id).slice(0, 25);
  if (res.recommendationId && items.length) {
    const v = visitor();
    const variant = res.experiment ? { experiment: res.experiment, variant: res.variant } : {};
    engine.logShown({ recommendationId: res.recommendationId, recommender: res.recommender, ...variant, sessionId: v.sessionId, ...(v.userId ? { userId: v.userId } : {}), itemList: items.map((p) => p.id) });
  }
  const attrs = `data-rid="${esc(res.recommendationId ?? '')}" data-row="${esc(name)}"`;
  const body = items.length
    ? items.map((p) => card(p, attrs, before !== undefined && !before.includes(p.id))).join('')
    : `<p class="empty">${esc(opts.empty ?? 'Nothing to show yet.')}</p>`;
  return `<section class="row" data-row="${esc(name)}" data-impression="${esc(ids.join(' '))}">
  <header><h2>${esc(heading)}</h2>${why ? `<p class="why">${why}</p>` : ''}<code class="src" title="edgerec request">${esc(opts.source ?? res.source ?? '')}</code></header>
  <div class="cards">${body}</div>${opts.after ?? ''}
</section>`;
}

const VERB = { View: 'viewed', AddToCart: 'added', Purchase: 'bought' };

/** The "why" line of "Recommended for you", from what this visitor did last. */
function because() {
  const last = log().find((e) => shop.byId.has(e.itemId));
  if (last) {
    const p = shop.byId.get(last.itemId);
    const verb = VERB[last.eventType] ?? 'chose';
    return `Because you ${verb} <a href="#/p/${esc(p.id)}">${esc(p.name)}</a>`;
  }
  const who = persona();
  if (who) return `Based on ${esc(who.name)}'s past shopping (${who.persona.map(esc).join(', ')})`;
  return 'New here? Start with these. Click a few products and watch this row adapt.';
}

function forYou(extra = {}) {
  const res = ask(request({ recommender: 'recommended-for-you', ...extra }));
  return row('recommended-for-you', 'Recommended for you', because(), {
    ...res,
    source: `recommended-for-you · user-personalization${extra.filter ? ` · filter ${extra.filter}` : ''}`,
  });
}

// ---- pages --------------------------------------------------------------------------------------

function home() {
  const trending = ask(request({ recommender: 'trending-now' }));
  const best = ask(request({ recommender: 'best-sellers' }));
  return `${forYou()}
${row('trending-now', 'Trending now', 'Most viewed in the last three days', { ...trending, source: 'trending-now · popularity-count (View, lookbackDays=3)' })}
${row('best-sellers', 'Best sellers', 'Bought by the most shoppers', { ...best, source: 'best-sellers · popularity-count (Purchase)' })}
<section class="row"><header><h2>Shop by category</h2></header><div class="tiles">${shop.categories
    .map((c) => `<a class="tile" href="#/c/${esc(c)}">${picture(c)}<span>${esc(title(c))}</span></a>`)
    .join('')}</div></section>`;
}

function category(cat, params) {
  if (!shop.categories.includes(cat)) return notFound();
  const sort = params.get('sort') ?? 'for-you';
  let items = shop.products.filter((p) => p.category === cat);
  let note = 'Ranked for you with getPersonalizedRanking';
  if (sort === 'for-you') {
    try {
      const res = engine.rank({ recommender: 'recommended-for-you', userId: who(), inputList: items.map((p) => p.id), context: { DEVICE } });
      items = res.personalizedRanking.map((x) => shop.byId.get(x.itemId)).filter(Boolean);
    } catch (e) {
      note = `Ranking failed: ${esc(e.message)}`;
    }
  } else {
    items = [...items].sort((a, b) => (sort === 'price-asc' ? a.price - b.price : b.price - a.price));
    note = 'Sorted by price';
  }
  const top = forYou({ filter: 'category', filterValues: { CATEGORIES: `"${cat}"` } });
  const options = [['for-you', 'For you'], ['price-asc', 'Price: low to high'], ['price-desc', 'Price: high to low']]
    .map(([v, l]) => `<option value="${v}"${v === sort ? ' selected' : ''}>${l}</option>`)
    .join('');
  return `<h1>${esc(title(cat))}</h1>${top}
<section class="grid-section"><header><h2>All ${esc(cat)} (${items.length})</h2><p class="why">${note}</p>
<label>Sort <select id="sort" data-cat="${esc(cat)}">${options}</select></label></header>
<div class="grid">${items.map((p) => card(p)).join('')}</div></section>`;
}

function productRows(p) {
  const also = ask(request({ recommender: 'also-viewed', itemId: p.id }));
  const fbt = ask(request({ recommender: 'frequently-bought-together', itemId: p.id, numResults: 4 }));
  const like = ask(request({ recommender: 'more-like-this', itemId: p.id, filter: 'same-category' }));
  const fbtItems = fbt.itemList.filter((x) => shop.byId.has(x.itemId));
  const bundle = fbtItems.length
    ? `<button class="secondary" id="add-bundle" data-items="${esc(fbtItems.map((x) => x.itemId).join(' '))}">Add all ${fbtItems.length} to cart</button>`
    : '';
  return `${row('also-viewed', 'Customers who viewed this also viewed', `Shoppers who viewed <b>${esc(p.name)}</b> also viewed`, { ...also, source: 'also-viewed · sims (View)' })}
${row('frequently-bought-together', 'Frequently bought together', `Often bought with <b>${esc(p.name)}</b>`, { ...fbt, source: 'frequently-bought-together · sims (Purchase)' }, { after: bundle, empty: 'No purchases with this product yet.' })}
${row('more-like-this', 'More like this', `More in ${esc(p.category)}`, { ...like, source: 'more-like-this · sims · filter same-category' })}
${forYou()}`;
}

async function product(id) {
  const p = shop.byId.get(id);
  if (!p) return notFound();
  const event = { eventType: 'View', itemId: id };
  if (clicked && clicked.itemId === id) {
    if (clicked.rid) event.recommendationId = clicked.rid;
    if (clicked.impression.length) event.impression = clicked.impression;
  }
  clicked = null;
  await track([event]);
  return `<nav class="crumbs"><a href="#/">Home</a> › <a href="#/c/${esc(p.category)}">${esc(title(p.category))}</a> › ${esc(p.style)}</nav>
<article class="product">
  <div class="big">${picture(p.category, p.id)}</div>
  <div class="info"><h1>${esc(p.name)}</h1>
    <p class="price big-price">${money(p.price)} ${p.promoted ? '<span class="badge">Deal</span>' : ''}</p>
    <p class="desc" id="desc">${esc(shop.descriptions?.[p.id] ?? '')}</p>
    <p class="stock">${p.stock > 0 ? `${p.stock} in stock` : 'Out of stock'} · ${esc(p.style)}</p>
    <button id="add-to-cart" data-item="${esc(p.id)}">Add to cart</button> <span id="added" class="added"></span>
  </div>
</article>
<div id="product-rows">${productRows(p)}</div>`;
}

function cartPage() {
  const lines = cart.get().filter((l) => shop.byId.has(l.id));
  if (!lines.length) return `<h1>Your cart</h1><p class="empty">Your cart is empty.</p>${forYou()}`;
  const total = lines.reduce((s, l) => s + shop.byId.get(l.id).price * l.qty, 0);
  const last = lines[lines.length - 1].id;
  const fbt = ask(request({ recommender: 'frequently-bought-together', itemId: last, numResults: 6 }));
  return `<h1>Your cart</h1>
<table class="cart"><tbody>${lines
    .map((l) => {
      const p = shop.byId.get(l.id);
      return `<tr><td class="thumb">${picture(p.category, p.id)}</td><td><a href="#/p/${esc(p.id)}">${esc(p.name)}</a></td>
<td>${l.qty} × ${money(p.price)}</td><td><button class="link" data-remove="${esc(p.id)}">Remove</button></td></tr>`;
    })
    .join('')}</tbody></table>
<p class="total">Total <b>${money(total)}</b> <a class="button" href="#/checkout" id="checkout">Checkout</a></p>
${row('frequently-bought-together', 'Frequently bought together', `Goes well with <b>${esc(shop.byId.get(last).name)}</b>`, { ...fbt, source: 'frequently-bought-together · sims (Purchase)' })}`;
}

function checkout() {
  const lines = cart.get().filter((l) => shop.byId.has(l.id));
  if (!lines.length) return cartPage();
  const total = lines.reduce((s, l) => s + shop.byId.get(l.id).price * l.qty, 0);
  return `<h1>Checkout</h1>
<form id="checkout-form" class="checkout">
  <label>Name <input name="name" value="${esc(persona()?.name ?? 'Guest')}" required></label>
  <label>Card <input name="card" value="4242 4242 4242 4242" required></label>
  <p>${lines.length} products, total <b>${money(total)}</b> (demo: nothing is charged)</p>
  <button id="place-order">Place order</button>
</form>`;
}

function thanks() {
  return `<h1>Thank you!</h1><p>Your order is placed. Purchases are events too: the rows below already know.</p>
${forYou({ filter: 'exclude-purchased' })}`;
}

function search(params) {
  const q = (params.get('q') ?? '').trim();
  const cat = params.get('cat') ?? '';
  const min = params.get('min') ?? '';
  const max = params.get('max') ?? '';
  const cats = cat ? [cat] : shop.categories;
  const filterValues = {
    CATEGORIES: cats.map((c) => `"${c}"`).join(','),
    MIN_PRICE: String(Number(min) || 0),
    MAX_PRICE: String(Number(max) || 1e9),
  };
  let items = [];
  let how;
  let error = '';
  try {
    if (q) {
      // Text match over the catalogue gives the candidates; edgerec ranks them for this visitor
      // and applies the category and price filter.
      const words = q.toLowerCase().split(/\s+/);
      const hits = shop.products.filter((p) => words.every((w) => `${p.name} ${p.style} ${p.category}`.toLowerCase().includes(w))).slice(0, 500);
      if (hits.length) {
        const res = engine.rank({ recommender: 'recommended-for-you', userId: who(), inputList: hits.map((p) => p.id), filter: 'search', filterValues, context: { DEVICE } });
        items = res.personalizedRanking.map((x) => shop.byId.get(x.itemId)).filter(Boolean);
      }
      how = 'getPersonalizedRanking over the text matches';
    } else {
      const res = engine.recommend(request({ recommender: 'recommended-for-you', numResults: 48, filter: 'search', filterValues }));
      items = res.itemList.map((x) => shop.byId.get(x.itemId)).filter(Boolean);
      how = 'getRecommendations';
    }
  } catch (e) {
    error = `<p class="error">${esc(e.message)}</p>`;
  }
  const options = ['<option value="">All categories</option>', ...shop.categories.map((c) => `<option value="${esc(c)}"${c === cat ? ' selected' : ''}>${esc(title(c))}</option>`)].join('');
  return `<h1>Search</h1>
<form id="search-form" class="filters">
  <input name="q" value="${esc(q)}" placeholder="Search products">
  <select name="cat">${options}</select>
  <label>from $<input name="min" type="number" min="0" value="${esc(min)}" size="5"></label>
  <label>to $<input name="max" type="number" min="0" value="${esc(max)}" size="5"></label>
  <button>Apply</button>
</form>
<p class="why">${items.length} results · ${how ?? ''} · filter <code>search</code>:
<code>INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORIES) AND Items.PRICE &gt;= $MIN_PRICE AND Items.PRICE &lt;= $MAX_PRICE</code></p>
${error}<div class="grid" id="results">${items.map((p) => card(p)).join('')}</div>`;
}

function notFound() {
  return `<h1>Not found</h1><p><a href="#/">Back to the shop</a></p>`;
}

// ---- router -------------------------------------------------------------------------------------

/** The current route: its parts, its query and a normalised key ('' and '#/' are both '/'). */
function where() {
  const [pathPart, query = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, query, key: `/${parts.join('/')}` };
}

async function route() {
  const { parts, query, key: pathPart } = where();
  const params = new URLSearchParams(query);
  const samePage = store.page === pathPart;
  store.page = pathPart;
  previous = shownByPage.get(pathPart) ?? new Map();
  current = new Map();
  let html;
  switch (parts[0] ?? '') {
    case '':
      html = home();
      break;
    case 'c':
      html = category(parts[1], params);
      break;
    case 'p':
      html = await product(parts[1]);
      loadDescription(parts[1]);
      break;
    case 'cart':
      html = cartPage();
      break;
    case 'checkout':
      html = checkout();
      break;
    case 'thanks':
      html = thanks();
      break;
    case 'search':
      html = search(params);
      break;
    default:
      html = notFound();
  }
  main.innerHTML = html;
  shownByPage.set(pathPart, current);
  if (!samePage) scrollTo(0, 0);
  if (store.firstRecsAt === null && $('.row .card')) {
    store.firstRecsAt = performance.now();
    renderDebug();
  }
}

/** Re-renders the rows of the current page after an event, marking new items. */
function rerender() {
  const { parts, key: pathPart } = where();
  if (parts[0] === 'p' && shop.byId.has(parts[1]) && $('#product-rows')) {
    previous = shownByPage.get(pathPart) ?? new Map();
    current = new Map();
    $('#product-rows').innerHTML = productRows(shop.byId.get(parts[1]));
    shownByPage.set(pathPart, current);
  } else {
    route();
  }
}

async function loadDescriptions() {
  if (shop.descriptions) return shop.descriptions;
  try {
    const res = await fetch('/descriptions.json');
    if (res.ok) shop.descriptions = await res.json();
  } catch {
    /* offline and never fetched: product pages show no description */
  }
  return shop.descriptions;
}

async function loadDescription(id) {
  const d = await loadDescriptions();
  const el = $('#desc');
  if (el && d?.[id]) el.textContent = d[id];
}

// ---- interactions -------------------------------------------------------------------------------

document.addEventListener('click', async (e) => {
  const a = e.target.closest('a.card');
  if (a) {
    const section = a.closest('[data-impression]');
    clicked = {
      itemId: a.dataset.item,
      rid: a.dataset.rid || null,
      impression: section ? section.dataset.impression.split(' ').filter(Boolean) : [],
    };
    return;
  }
  const add = e.target.closest('#add-to-cart');
  if (add) {
    cart.add(add.dataset.item);
    await track([{ eventType: 'AddToCart', itemId: add.dataset.item }]);
    const note = $('#added');
    if (note) note.textContent = 'Added to your cart';
    rerender();
    return;
  }
  const bundle = e.target.closest('#add-bundle');
  if (bundle) {
    const ids = bundle.dataset.items.split(' ');
    ids.forEach((id) => cart.add(id));
    await track(ids.map((itemId) => ({ eventType: 'AddToCart', itemId })));
    rerender();
    return;
  }
  const remove = e.target.closest('[data-remove]');
  if (remove) {
    cart.set(cart.get().filter((l) => l.id !== remove.dataset.remove));
    route();
  }
});

document.addEventListener('change', (e) => {
  if (e.target.id === 'sort') location.hash = `#/c/${encodeURIComponent(e.target.dataset.cat)}?sort=${e.target.value}`;
});

document.addEventListener('submit', async (e) => {
  const form = e.target;
  if (form.id === 'checkout-form') {
    e.preventDefault();
    const lines = cart.get().filter((l) => shop.byId.has(l.id));
    await track(lines.map((l) => ({ eventType: 'Purchase', itemId: l.id, eventValue: shop.byId.get(l.id).price * l.qty })));
    cart.set([]);
    location.hash = '#/thanks';
  } else if (form.id === 'search-form' || form.id === 'header-search') {
    e.preventDefault();
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) params.set(k, String(v));
    location.hash = `#/search?${params}`;
  }
});

function renderPersonas() {
  const sel = $('#persona');
  const options = [`<option value="">New visitor (anonymous)</option>`, ...shop.personas.map((p) => `<option value="${esc(p.userId)}">Signed in: ${esc(p.name)} · likes ${esc(p.persona.join(', '))}</option>`)];
  sel.innerHTML = options.join('');
  sel.value = localStorage.getItem('persona') ?? '';
  sel.addEventListener('change', async () => {
    localStorage.setItem('persona', sel.value);
    // A shopper signs in (the shop's backend vouches for them; their profile is loaded), or out.
    try {
      await engine.signOut();
      if (sel.value) await engine.signIn(sel.value);
    } catch (e) {
      store.errors.push(e.message);
    }
    renderCartCount();
    shownByPage.clear();
    route();
    renderDebug();
  });
  $('#new-visitor').addEventListener('click', async () => {
    await engine.signOut();
    localStorage.setItem('persona', '');
    localStorage.removeItem('session:anonymous');
    sel.value = '';
    renderCartCount();
    shownByPage.clear();
    store.page = null;
    location.hash = '#/';
    route();
    renderDebug();
  });
}

// ---- debug panel --------------------------------------------------------------------------------

function renderDebug() {
  const s = engine.state;
  if (!s.rec) return;
  const info = s.rec.info();
  const med = engine.median(s.latencies);
  const events = log().slice(0, 8);
  $('#debug-body').innerHTML = `<dl>
<dt>Model</dt><dd id="dbg-model-version" data-version="${info.modelVersion}">v${info.modelVersion} · ${(s.modelBytes / 1024).toFixed(0)} KB · ${info.items} items · ${s.modelSource}${s.swaps ? ` · swapped ${s.swaps}×` : ''}</dd>
<dt>Engine</dt><dd>${info.simd ? 'wasm simd128' : 'wasm baseline'} · loaded in ${s.loadMs?.toFixed(0) ?? '–'} ms</dd>
<dt>Latency</dt><dd id="dbg-latency">last ${s.lastLatency?.toFixed(2) ?? '–'} ms · median ${med?.toFixed(2) ?? '–'} ms (${s.latencies.length} requests)</dd>
<dt>First recs</dt><dd>${store.firstRecsAt ? `${store.firstRecsAt.toFixed(0)} ms after navigation` : '–'}</dd>
<dt>Visitor</dt><dd>${esc(visitor().userId ? `user ${visitor().userId}` : 'anonymous')} · session ${esc(visitor().sessionId.slice(0, 10))}…</dd>
<dt>Profile</dt><dd id="dbg-profile" data-user="${esc(s.profile?.userId ?? '')}" data-version="${s.profile?.modelVersion ?? ''}">${s.profile ? `${esc(s.profile.userId)}'s own data · ${s.profile.bytes} B · ${esc(s.profile.source)} · for model v${s.profile.modelVersion}` : esc(s.profileError ?? 'not signed in')}</dd>
<dt>Outbox</dt><dd id="dbg-outbox" data-pending="${s.outbox}">${s.outbox} pending · ${s.synced} synced · ${s.online ? 'online' : 'offline'}${s.syncError ? ` · ${esc(s.syncError)}` : ''}</dd>
<dt>Parked</dt><dd id="dbg-parked" data-count="${s.parked}" title="${esc(s.parkedError ?? '')}">${s.parked ? `${s.parked} refused by the sync server, kept in IndexedDB (parked) · last: ${esc((s.parkedError ?? '').slice(0, 120))}` : 'none'}</dd>
<dt>Session</dt><dd><ol class="events">${events
    .map((e) => `<li>${esc(e.eventType)} <span>${esc(shop.byId.get(e.itemId)?.name ?? e.itemId)}</span></li>`)
    .join('')}</ol></dd></dl>`;
  $('#net').textContent = s.online ? '' : 'offline';
}

// ---- start --------------------------------------------------------------------------------------

async function start() {
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch((e) => console.warn('service worker', e));
  const [catalog, personas] = await Promise.all([fetch('/catalog.json').then((r) => r.json()), fetch('/personas.json').then((r) => r.json()), engine.load(localStorage.getItem('persona') || null)]);
  shop.products = catalog.products;
  shop.categories = catalog.categories;
  shop.byId = new Map(catalog.products.map((p) => [p.id, p]));
  shop.personas = personas;
  $('#nav').innerHTML = shop.categories.map((c) => `<a href="#/c/${esc(c)}">${esc(title(c))}</a>`).join('');
  renderPersonas();
  renderCartCount();
  engine.onChange(() => renderDebug());
  let lastVersion = engine.state.modelVersion;
  engine.onChange((s) => {
    if (s.modelVersion !== lastVersion) {
      lastVersion = s.modelVersion;
      const note = $('#model-note');
      note.textContent = `New model v${s.modelVersion} loaded, no reload needed`;
      note.hidden = false;
      setTimeout(() => (note.hidden = true), 4000);
      rerender();
    }
  });
  if (DEVICE === 'mobile') $('#debug').classList.remove('open');
  $('#debug-toggle').addEventListener('click', () => $('#debug').classList.toggle('open'));
  $('#sync-now').addEventListener('click', () => engine.sync());
  $('#refresh-model').addEventListener('click', () => engine.refreshModel());
  addEventListener('hashchange', () => route().then(renderDebug));
  await route();
  renderDebug();
  store.ready = true;
}

start().catch((e) => {
  store.errors.push(e.message);
  main.innerHTML = `<h1>The shop could not start</h1><p class="error">${esc(e.message)}</p>`;
});
