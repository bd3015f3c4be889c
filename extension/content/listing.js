// Badges on listing pages: one batch lookup for the whole page, then small badges beside
// each paper's link (in their own shadow roots, so the page's styles do not reach them).

import { el } from "../lib/dom.js";
import { LOOKUP_LISTING } from "../lib/messages.js";
import { listingLinks } from "./adapters.js";
import { BADGE_CSS } from "./overlay_css.js";

const BADGE_CLASS = "paperlens-badges";

function badge(doc, info) {
  const host = doc.createElement("span");
  host.className = BADGE_CLASS;
  host.dataset.paperId = info.paper_id;
  host.dataset.code = String(info.code);
  host.dataset.saved = String(info.saved);
  const shadow = host.attachShadow({ mode: "open" });
  // append writes a null argument out as the text "null": leave absent marks out.
  shadow.append(
    ...[
      el(doc, "style", {}, BADGE_CSS),
      info.code ? el(doc, "span", { title: info.official_code ? "Official code available" : "Code available" }, "</> code") : null,
      info.saved ? el(doc, "span", { className: "saved", title: "In your reading list" }, "★ saved") : null,
    ].filter(Boolean),
  );
  return host;
}

/** Badge every paper link that earns one, from one question to the background (its answer is returned). */
export async function decorateListing(doc, loc, siteId, send) {
  const { anchors, preferred } = listingLinks(siteId, doc, loc);
  const hrefs = [...new Set(anchors.map((a) => a.href))];
  if (hrefs.length === 0) return null;
  const answer = await send({ type: LOOKUP_LISTING, hrefs });
  if (!answer?.ok) return answer;
  const placed = new Map();
  for (const anchor of anchors) {
    const info = answer.items[anchor.href];
    if (!info || !(info.code || info.saved)) continue;
    const current = placed.get(info.paper_id);
    if (current && (preferred.has(current) || !preferred.has(anchor))) continue;
    placed.set(info.paper_id, anchor);
  }
  for (const [paperId, anchor] of placed) {
    const info = answer.items[anchor.href];
    if (doc.querySelector(`.${BADGE_CLASS}[data-paper-id="${CSS.escape(paperId)}"]`)) continue;
    anchor.after(badge(doc, info));
  }
  return answer;
}
