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

/** Where a code link came from, said quietly after it: "official · from abstract". */
function provenance(link) {
  const kind = link.kind === "repository" ? null : (KIND_LABELS[link.kind] ?? link.kind);
  const from = link.source ? `from ${link.source}` : null;
  return [link.official ? "official" : null, kind, from].filter(Boolean).join(" · ");
}

/** The official code first, as the one prominent link; the others after it, smaller. */
function codeSection(doc, paper) {
  const links = codeLinks(paper);
  if (links.length === 0) return el(doc, "p", { className: "muted" }, "No code links found yet.");
  return el(
    doc,
    "ul",
    { className: "code", "aria-label": "Code links" },
    links.map((link, index) =>
      el(
        doc,
        "li",
        { className: index === 0 ? "main" : null, "data-official": link.official ? "true" : "false" },
        externalLink(doc, link.url, linkLabel(link.url), "code-link"),
        provenance(link) ? el(doc, "span", { className: "source" }, provenance(link)) : null,
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

/** The `shown` best related papers, and a "More" button that shows the rest (up to `limit`). */
function relatedSection(doc, paper, limit, shown) {
  if (limit <= 0) return null;
  const related = (paper?.related ?? []).slice(0, limit);
  if (related.length === 0) {
    return [el(doc, "h3", {}, "Related papers"), el(doc, "p", { className: "muted nothing-close" }, NOTHING_CLOSE)];
  }
  const items = related.map((item, index) =>
    el(
      doc,
      "li",
      { hidden: index >= shown },
      externalLink(doc, paperUrl(item.paper_id), item.title, "related-title"),
      relatedSource(item) ? el(doc, "span", { className: "source" }, relatedSource(item)) : null,
      item.reason ? el(doc, "div", { className: "reason" }, item.reason) : null,
    ),
  );
  const list = el(doc, "ol", { className: "related", id: "paperlens-related" }, items);
  const rest = related.length - shown;
  if (rest <= 0) return [el(doc, "h3", {}, "Related papers"), list];
  const closedLabel = `More related papers (${rest})`;
  const more = el(
    doc,
    "button",
    { type: "button", className: "link more", "aria-expanded": "false", "aria-controls": "paperlens-related" },
    closedLabel,
  );
  more.addEventListener(
    "click",
    trusted(() => {
      const open = more.getAttribute("aria-expanded") !== "true";
      for (const item of items.slice(shown)) item.hidden = !open;
      more.setAttribute("aria-expanded", String(open));
      more.textContent = open ? "Fewer related papers" : closedLabel;
    }),
  );
  return [el(doc, "h3", {}, "Related papers"), list, more];
}

/**
 * Code, published version, project page and related papers of a ready paper document, in
 * that order: what a reader came for first. The page's own title is not repeated.
 */
export function paperDetails(doc, paper, { relatedLimit = 10, relatedShown = 3 } = {}) {
  return [
    el(doc, "h3", {}, "Code"),
    codeSection(doc, paper),
    publishedSection(doc, paper),
    projectSection(doc, paper),
    relatedSection(doc, paper, relatedLimit, relatedShown),
  ]
    .flat()
    .filter(Boolean);
}

/** What the announcement region says after each change the reader made. */
export const ANNOUNCED = Object.freeze({
  save: "Saved to your reading list",
  status: "Status changed",
  tags: "Tags changed",
  remove: "Removed from your reading list",
});
// Announcements are real text (a screen reader needs it), so they are cleared again soon:
// find-in-page on the hosting page must not keep learning what the reader did.
const ANNOUNCED_FOR_MS = 5000;
const ANNOUNCE_AFTER_MS = 100;

/**
 * The tag editor: each tag a chip with its own remove button, and a field that adds what is
 * typed on Enter or a comma. `onChange(tags, focusInput)` is called with the new list.
 */
function tagEditor(doc, tags, onChange, draft = "") {
  const input = el(doc, "input", {
    type: "text",
    className: "tag-input",
    "aria-label": "Add a tag",
    placeholder: "add a tag",
    enterkeyhint: "done",
  });
  input.value = draft;
  const chips = el(
    doc,
    "ul",
    { className: "tag-chips", "aria-label": "Tags" },
    tags.map((tag) =>
      el(
        doc,
        "li",
        { className: "tag-chip" },
        // Generated text: find-in-page on the hosting page must not find the reader's tags.
        el(doc, "span", { "data-label": tag }),
        el(
          doc,
          "button",
          {
            type: "button",
            className: "tag-remove",
            "aria-label": `Remove tag ${tag}`,
            onclick: trusted(() => onChange(tags.filter((other) => other !== tag))),
          },
          el(doc, "span", { "aria-hidden": "true", "data-label": "×" }),
        ),
      ),
    ),
  );
  // onChange answers false while an earlier change is still being saved: the text stays.
  const add = () => {
    const typed = parseTags(input.value).filter((tag) => !tags.includes(tag));
    if (typed.length === 0) input.value = "";
    else if (onChange([...tags, ...typed]) !== false) input.value = "";
  };
  input.addEventListener(
    "keydown",
    trusted((event) => {
      if (event.key !== "Enter" && event.key !== ",") return;
      event.preventDefault();
      add();
    }),
  );
  // A comma pasted or typed by an input method arrives without a keydown of its own.
  input.addEventListener("input", () => {
    if (input.value.includes(",")) add();
  });
  return {
    node: el(doc, "div", { className: "tags-box" }, chips, input),
    input,
    pending: () => parseTags(input.value),
  };
}

/**
 * The Save form; `actions` are async {save(fields), remove(), openOptions(), changed(entry,
 * after)}. `after` ({focus, announce, editing, draft}) is what the form was told to restore when it
 * is drawn again after a change: the control to focus and the line to announce.
 *
 * Unsaved, it offers Save with the status and tags to save. Saved, it rests on one line,
 * "★ Saved · To read", with Edit and Remove; editing, status and tags save as they change.
 * The words that say whether and how the paper is saved are generated text (`data-label`
 * shown by the stylesheet's ::before), the tags too: a page hosting the overlay can search
 * its text with window.find and must not learn either. Only the reader's own (trusted)
 * events act.
 */
export function saveForm(doc, { entry, hasToken, actions, after = {} }) {
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
  const statusLabel = (value) => STATUSES.find(([key]) => key === value)?.[1] ?? STATUSES[0][1];
  const message = el(doc, "span", { className: "save-message", role: "status" });
  const controls = [];
  let busy = false;
  const run = async (work, done) => {
    busy = true;
    for (const control of controls) control.disabled = true;
    message.textContent = "";
    const result = await work();
    busy = false;
    for (const control of controls) control.disabled = false;
    if (result.ok) done(result);
    else {
      message.classList.add("error");
      message.textContent = result.error.line;
    }
  };
  const status = el(
    doc,
    "select",
    { className: "status", "aria-label": "Reading status" },
    STATUSES.map(([value, label]) =>
      el(doc, "option", { value, selected: (entry?.status ?? "to_read") === value }, label),
    ),
  );
  let tags = entry?.tags ?? [];
  const saveAs = (fields, focus, announce) =>
    run(
      () => actions.save(fields),
      // What the reader typed while the change was saved goes on in the redrawn field.
      (result) =>
        actions.changed(result.entry ?? fields, {
          focus,
          announce,
          editing: Boolean(entry),
          draft: editor.input.value,
        }),
    );
  let editor = null;
  // Saved, a changed tag list is saved at once; unsaved, it waits for Save.
  const changeTags = (next) => {
    if (busy) return false;
    if (entry) {
      saveAs({ status: status.value, tags: next }, "tags", ANNOUNCED.tags);
      return;
    }
    tags = next;
    const fresh = tagEditor(doc, tags, changeTags);
    editor.node.replaceWith(fresh.node);
    editor = fresh;
    fresh.input.focus();
  };
  editor = tagEditor(doc, tags, changeTags, after.draft);
  const chosenTags = () => parseTags([...tags, ...editor.pending()].join(","));
  controls.push(status);

  let form;
  if (entry) {
    const editing = Boolean(after.editing);
    const editButton = el(doc, "button", {
      type: "button",
      className: "edit-button",
      "data-label": "Edit",
      // Generated text is not every screen reader's name for a button: give it its name as well.
      "aria-label": "Edit",
      "aria-expanded": String(editing),
    });
    const removeButton = el(doc, "button", {
      type: "button",
      className: "remove-button",
      "data-label": "Remove",
      "aria-label": "Remove",
    });
    const fields = el(doc, "div", { className: "save-fields", hidden: !editing }, status, editor.node);
    editButton.addEventListener(
      "click",
      trusted(() => {
        fields.hidden = !fields.hidden;
        editButton.setAttribute("aria-expanded", String(!fields.hidden));
        if (!fields.hidden) status.focus();
      }),
    );
    status.addEventListener(
      "change",
      trusted(() => saveAs({ status: status.value, tags: chosenTags() }, "status", ANNOUNCED.status)),
    );
    removeButton.addEventListener(
      "click",
      trusted(() =>
        run(
          () => actions.remove(),
          () => actions.changed(null, { focus: "save", announce: ANNOUNCED.remove }),
        ),
      ),
    );
    controls.push(editButton, removeButton);
    form = el(
      doc,
      "div",
      { className: "save" },
      el(doc, "span", { className: "saved-mark", "data-label": `★ Saved · ${statusLabel(entry.status)}` }),
      editButton,
      removeButton,
      fields,
      message,
    );
  } else {
    const saveButton = el(doc, "button", {
      type: "button",
      className: "primary save-button",
      "data-label": "Save",
      "aria-label": "Save",
    });
    saveButton.addEventListener(
      "click",
      trusted(() => saveAs({ status: status.value, tags: chosenTags() }, "edit", ANNOUNCED.save)),
    );
    controls.push(saveButton);
    form = el(
      doc,
      "div",
      { className: "save" },
      el(doc, "span", { className: "saved-mark muted", "data-label": "Not in your reading list" }),
      saveButton,
      el(doc, "div", { className: "save-fields" }, status, editor.node),
      message,
    );
  }
  const targets = {
    save: ".save-button",
    edit: ".edit-button",
    remove: ".remove-button",
    status: "select.status",
    tags: ".tag-input",
  };
  if (after.announce) {
    // Written once the region is in the document, so that it is announced as a change.
    setTimeout(() => {
      message.textContent = after.announce;
      setTimeout(() => {
        if (message.textContent === after.announce) message.textContent = "";
      }, ANNOUNCED_FOR_MS);
    }, ANNOUNCE_AFTER_MS);
  }
  if (after.focus) {
    // Focused once the form is in the document (the caller appends it right after this returns).
    queueMicrotask(() => form.querySelector(targets[after.focus])?.focus());
  }
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
