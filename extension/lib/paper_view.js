// The paper panel shared by the overlay and the popup: code links, project page, related
// papers and the Save form. Works on any document; all server strings are inserted as text.

import { el, externalLink } from "./dom.js";
import { codeLinks, linkLabel, paperUrl, parseTags, projectPage, STATUSES } from "./links.js";

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

function projectSection(doc, paper) {
  const page = projectPage(paper);
  if (!page) return null;
  return el(
    doc,
    "p",
    { className: "project" },
    "Project page: ",
    externalLink(doc, page.url, linkLabel(page.url)),
  );
}

function relatedSection(doc, paper, limit) {
  const related = (paper?.related ?? []).slice(0, limit);
  if (related.length === 0) return null;
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
          el(doc, "div", { className: "reason" }, item.reason),
        ),
      ),
    ),
  ];
}

/** Code, project page and related papers of a ready paper document. */
export function paperDetails(doc, paper, { relatedLimit = 10 } = {}) {
  return [
    el(doc, "h3", {}, "Code"),
    codeSection(doc, paper),
    projectSection(doc, paper),
    relatedSection(doc, paper, relatedLimit),
  ]
    .flat()
    .filter(Boolean);
}

/** The Save form; `actions` are async {save(fields), remove(), openOptions()}. */
export function saveForm(doc, { entry, hasToken, actions }) {
  if (!hasToken) {
    return el(
      doc,
      "div",
      { className: "save" },
      el(doc, "span", {}, "Add your API token to save papers. "),
      el(doc, "button", { type: "button", className: "link", onclick: () => actions.openOptions() }, "Open options"),
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
  const tags = el(doc, "input", {
    className: "tags",
    type: "text",
    placeholder: "tags, comma separated",
    "aria-label": "Tags",
    value: (entry?.tags ?? []).join(", "),
  });
  const message = el(doc, "span", { className: "save-message", role: "status" });
  const saveButton = el(doc, "button", { type: "button", className: "primary save-button" }, entry ? "Update" : "Save");
  const form = el(
    doc,
    "div",
    { className: "save", "data-saved": entry ? "true" : "false" },
    entry ? el(doc, "span", { className: "saved-mark" }, "★ Saved") : null,
    status,
    tags,
    saveButton,
    entry ? el(doc, "button", { type: "button", className: "remove-button" }, "Remove") : null,
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
  saveButton.addEventListener("click", () =>
    run(
      saveButton,
      () => actions.save({ status: status.value, tags: parseTags(tags.value) }),
      (result) => actions.changed(result.entry ?? { status: status.value, tags: parseTags(tags.value) }),
    ),
  );
  form.querySelector(".remove-button")?.addEventListener("click", (event) =>
    run(event.currentTarget, () => actions.remove(), () => actions.changed(null)),
  );
  return form;
}
