// The paper panel shared by the overlay and the popup: code links, project page, related
// papers, the Save form and the line that says what went wrong. Works on any document; all
// server strings are inserted as text.

import { el, externalLink, trusted } from "./dom.js";
import {
  codeLinks,
  linkLabel,
  NOTHING_CLOSE,
  paperUrl,
  parseTags,
  projectPage,
  publishedIn,
  relatedSource,
  STATUSES,
} from "./links.js";

const KIND_LABELS = {
  repository: "code",
  model: "model",
  dataset: "dataset",
  space: "demo",
};

function codeSection(doc, paper) {
  const links = codeLinks(paper);
  if (links.length === 0) return el(doc, "p", { className: "muted" }, "No code links found yet.");
  return el(
    doc,
    "ul",
    { className: "code", "aria-label": "Code links" },
    links.map((link) =>
      el(
        doc,
        "li",
        { "data-official": link.official ? "true" : "false" },
        externalLink(doc, link.url, linkLabel(link.url), "code-link"),
        " ",
        el(doc, "span", { className: "tag kind" }, KIND_LABELS[link.kind] ?? link.kind),
        link.official ? el(doc, "span", { className: "tag official" }, "official") : null,
        el(doc, "span", { className: "source" }, `from ${link.source}`),
      ),
    ),
  );
}

/** "Published in NeurIPS 2022 · doi:10…", the DOI a link to its resolver. */
function publishedSection(doc, paper) {
  const published = publishedIn(paper);
  if (!published) return null;
  const doi = published.doi
    ? [" · ", externalLink(doc, paperUrl(`doi:${published.doi}`), `doi:${published.doi}`, "doi")]
    : [];
  return el(doc, "p", { className: "published" }, published.text, ...doi);
}

function projectSection(doc, paper) {
  const page = projectPage(paper);
  if (!page) return null;
  return el(doc, "p", { className: "project" }, "Project page: ", externalLink(doc, page.url, linkLabel(page.url)));
}

function relatedSection(doc, paper, limit) {
  if (limit <= 0) return null;
  const related = (paper?.related ?? []).slice(0, limit);
  if (related.length === 0) {
    return [el(doc, "h3", {}, "Related papers"), el(doc, "p", { className: "muted nothing-close" }, NOTHING_CLOSE)];
  }
  return [
    el(doc, "h3", {}, "Related papers"),
    el(
      doc,
      "ol",
      { className: "related" },
      related.map((item) =>
        el(
          doc,
          "li",
          {},
          externalLink(doc, paperUrl(item.paper_id), item.title, "related-title"),
          relatedSource(item) ? el(doc, "span", { className: "source" }, relatedSource(item)) : null,
          el(doc, "div", { className: "reason" }, item.reason),
        ),
      ),
    ),
  ];
}

/** Published version, code, project page and related papers of a ready paper document. */
export function paperDetails(doc, paper, { relatedLimit = 10 } = {}) {
  return [
    publishedSection(doc, paper),
    el(doc, "h3", {}, "Code"),
    codeSection(doc, paper),
    projectSection(doc, paper),
    relatedSection(doc, paper, relatedLimit),
  ]
    .flat()
    .filter(Boolean);
}

/**
 * The Save form; `actions` are async {save(fields), remove(), openOptions()}.
 *
 * It is drawn in the same boxes whether or not the paper is saved (Remove is always laid out,
 * only hidden), and the words that say so are generated text (`data-label` shown by the
 * stylesheet's ::before), the saved tags too until the reader focuses the field: a page
 * hosting the overlay can measure its box and search its text with window.find, and must learn
 * neither whether nor how its paper is saved. Only the reader's own (trusted) clicks act.
 */
export function saveForm(doc, { entry, hasToken, actions }) {
  if (!hasToken) {
    return el(
      doc,
      "div",
      { className: "save" },
      el(doc, "span", {}, "Add your API token to save papers. "),
      el(
        doc,
        "button",
        { type: "button", className: "link", onclick: trusted(() => actions.openOptions()) },
        "Open options",
      ),
    );
  }
  const status = el(
    doc,
    "select",
    { className: "status", "aria-label": "Reading status" },
    STATUSES.map(([value, label]) =>
      el(doc, "option", { value, selected: (entry?.status ?? "to_read") === value }, label),
    ),
  );
  const savedTags = (entry?.tags ?? []).join(", ");
  let tagsShown = savedTags === "";
  const tags = el(doc, "input", { className: "tags", type: "text", "aria-label": "Tags" });
  // Saved tags (or the hint) are generated text over the empty field until the reader focuses it.
  const preview = el(doc, "span", {
    className: savedTags ? "tags-preview" : "tags-preview hint",
    "data-label": savedTags || "tags, comma separated",
  });
  const showFilled = () => tags.classList.toggle("filled", tags.value !== "");
  tags.addEventListener(
    "focus",
    trusted(() => {
      if (!tagsShown) tags.value = savedTags;
      tagsShown = true;
      showFilled();
    }),
  );
  tags.addEventListener("input", showFilled);
  const chosenTags = () => parseTags(tagsShown ? tags.value : savedTags);
  const message = el(doc, "span", { className: "save-message", role: "status" });
  const saveButton = el(doc, "button", {
    type: "button",
    className: "primary save-button",
    "data-label": entry ? "Update" : "Save",
    // Generated text is not every screen reader's name for a button: give it its name as well.
    "aria-label": entry ? "Update" : "Save",
  });
  const removeButton = el(doc, "button", {
    type: "button",
    className: entry ? "remove-button" : "remove-button absent",
    "data-label": "Remove",
    "aria-label": "Remove",
    disabled: !entry,
    "aria-hidden": entry ? null : "true",
  });
  const form = el(
    doc,
    "div",
    { className: "save" },
    el(doc, "span", {
      className: entry ? "saved-mark" : "saved-mark muted",
      "data-label": entry ? "★ Saved" : "Not in your reading list",
    }),
    removeButton,
    el(doc, "span", { className: "row-break" }),
    status,
    el(doc, "span", { className: "tags-box" }, tags, preview),
    saveButton,
    message,
  );
  const run = async (button, work, done) => {
    button.disabled = true;
    message.textContent = "";
    const result = await work();
    button.disabled = false;
    if (result.ok) done(result);
    else message.textContent = result.error.line;
  };
  saveButton.addEventListener(
    "click",
    trusted(() =>
      run(
        saveButton,
        () => actions.save({ status: status.value, tags: chosenTags() }),
        (result) => actions.changed(result.entry ?? { status: status.value, tags: chosenTags() }),
      ),
    ),
  );
  removeButton.addEventListener(
    "click",
    trusted(() => {
      if (entry)
        run(
          removeButton,
          () => actions.remove(),
          () => actions.changed(null),
        );
    }),
  );
  return form;
}

/**
 * The button that mends a failed answer: asking again when the source that holds the paper is
 * down (nothing in the options mends that), the reader's permission when the backend may not be
 * reached, the options for everything else (backend down, token wrong or missing). `actions`
 * are {retry, allowAccess, openOptions}; the result is {label, run}.
 */
export function remedy(error, { retry, allowAccess, openOptions }) {
  if (error?.kind === "source") return { label: "Try again", run: retry };
  if (error?.kind === "no_access") return { label: "Allow access", run: allowAccess };
  return { label: "Open options", run: openOptions };
}

/** One clear line and the button that mends it (`fix` is {label, run}). */
export function problemLine(doc, line, fix) {
  return el(
    doc,
    "p",
    { className: "line error", role: "alert" },
    line,
    " ",
    el(doc, "button", { type: "button", className: "link", onclick: trusted(fix.run) }, fix.label),
  );
}
