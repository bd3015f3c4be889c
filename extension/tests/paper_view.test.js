// The paper panel's related section, rendered into a minimal document: what a reader reads.
import assert from "node:assert/strict";
import { test } from "node:test";

import { NOTHING_CLOSE } from "../lib/links.js";
import { paperDetails, problemLine, remedy } from "../lib/paper_view.js";

/** Just enough of a DOM for the panel's builder: elements with children and text. */
function fakeDocument() {
  const node = (tag) => ({
    tag,
    children: [],
    attributes: {},
    className: "",
    setAttribute(name, value) {
      this.attributes[name] = value;
    },
    addEventListener() {},
    append(child) {
      this.children.push(child);
    },
    get textContent() {
      return this.children.map((child) => child.textContent).join("");
    },
  });
  return {
    createElement: node,
    createTextNode: (text) => ({ tag: "#text", textContent: text }),
  };
}

const text = (nodes) => nodes.map((node) => node.textContent).join("\n");

test("with nothing close in the catalogue the overlay says so instead of a list", () => {
  const shown = text(paperDetails(fakeDocument(), { code: [], related: [] }, { relatedLimit: 5 }));
  assert.match(shown, /Related papers/);
  assert.ok(shown.includes(NOTHING_CLOSE), shown);
  assert.equal(NOTHING_CLOSE, "No closely related papers in this catalogue yet.");
});

test("the popup, which shows no related list, shows no such line either", () => {
  const shown = text(paperDetails(fakeDocument(), { code: [], related: [] }, { relatedLimit: 0 }));
  assert.ok(!shown.includes(NOTHING_CLOSE) && !shown.includes("Related papers"), shown);
});

test("a related paper a source suggested names that source; the catalogue's own do not", () => {
  const paper = {
    code: [],
    related: [
      { paper_id: "arxiv:2205.13147", title: "Own neighbour", score: 0.3, reason: "Both discuss x" },
      {
        paper_id: "arxiv:1707.08567",
        title: "From outside",
        score: 1,
        reason: "Recommended by Semantic Scholar",
        in_corpus: false,
        source: "semantic_scholar",
      },
    ],
  };
  const items = paperDetails(fakeDocument(), paper, { relatedLimit: 5 })
    .find((node) => node.className === "related")
    .children.map((item) => item.textContent);
  assert.ok(!items[0].includes("suggested by"), items[0]);
  assert.ok(items[1].includes("suggested by Semantic Scholar"), items[1]);
});

test("a failed answer offers what mends it, as the overlay and the popup both show it", () => {
  const actions = { retry: () => "retry", allowAccess: () => "allow", openOptions: () => "options" };
  const offered = (kind) => {
    const { label, run } = remedy({ kind, line: "✗ ..." }, actions);
    return [label, run()];
  };
  assert.deepEqual(offered("source"), ["Try again", "retry"]);
  assert.deepEqual(offered("no_access"), ["Allow access", "allow"]);
  for (const kind of ["unreachable", "unauthorized", "no_token", "server", "extension"]) {
    assert.deepEqual(offered(kind), ["Open options", "options"], kind);
  }
  const line = problemLine(fakeDocument(), "✗ The API token was rejected.", remedy({ kind: "unauthorized" }, actions));
  assert.equal(line.textContent, "✗ The API token was rejected. Open options");
});

test("a preprint's published version shows as one line, its DOI linked", () => {
  const paper = {
    code: [],
    related: [],
    published_version: {
      venue: "NeurIPS",
      year: 2022,
      doi: "10.5555/3600270.3601234",
      pages: "1-12",
      entry_type: "inproceedings",
      source: "dblp",
    },
  };
  const line = paperDetails(fakeDocument(), paper, { relatedLimit: 0 }).find((node) => node.className === "published");
  assert.equal(line.textContent, "Published in NeurIPS 2022 · doi:10.5555/3600270.3601234");
  const link = line.children.find((child) => child.tag === "a");
  assert.equal(link.attributes.href, "https://doi.org/10.5555/3600270.3601234");
});

test("a published version without year or DOI shows neither, and no null or undefined", () => {
  const paper = {
    code: [],
    related: [],
    published_version: { venue: "Adv. Appl. Math.", year: null, doi: null, entry_type: "article" },
  };
  const shown = text(paperDetails(fakeDocument(), paper, { relatedLimit: 0 }));
  assert.ok(shown.endsWith("\nPublished in Adv. Appl. Math."), shown);
  assert.ok(!/null|undefined|doi:/.test(shown), shown);
  for (const published_version of [null, undefined, { venue: "" }, { venue: null, year: 2020 }]) {
    const none = text(paperDetails(fakeDocument(), { code: [], related: [], published_version }, { relatedLimit: 0 }));
    assert.ok(!none.includes("Published in") && !/null|undefined/.test(none), none);
  }
});

const MRL = {
  title: "Matryoshka Representation Learning",
  code: [
    { url: "https://huggingface.co/someone/mrl", kind: "model", official: false, source: "hugging face" },
    { url: "https://github.com/someone/mrl-fork", kind: "repository", official: false, source: "papers with code" },
    { url: "https://github.com/RAIVNLab/MRL", kind: "repository", official: true, source: "abstract" },
  ],
  published_version: { venue: "NeurIPS", year: 2022, doi: null },
  related: ["One", "Two", "Three", "Four", "Five"].map((title, index) => ({
    paper_id: `arxiv:2401.0000${index}`,
    title,
    reason: `Both study ${title.toLowerCase()}`,
  })),
};

test("the official code comes first, one link, its provenance after it; the title is not repeated", () => {
  const nodes = paperDetails(fakeDocument(), MRL, { relatedLimit: 10 });
  const shown = text(nodes);
  assert.ok(!shown.includes(MRL.title), shown);
  const order = ["github.com/RAIVNLab/MRL", "Published in NeurIPS 2022", "Related papers"].map((part) =>
    shown.indexOf(part),
  );
  assert.ok(
    order.every((at, index) => at >= 0 && (index === 0 || at > order[index - 1])),
    shown,
  );
  const [main, ...others] = nodes.find((node) => node.className === "code").children;
  assert.equal(main.className, "main");
  const [link, source] = main.children;
  assert.equal(link.attributes.href, "https://github.com/RAIVNLab/MRL");
  assert.equal(link.textContent, "github.com/RAIVNLab/MRL");
  // No "code" label for a repository, and the provenance comes after the link, quietly.
  assert.equal(source.className, "source");
  assert.equal(source.textContent, "official · from abstract");
  assert.deepEqual(
    others.map((item) => item.textContent),
    ["github.com/someone/mrl-forkfrom papers with code", "huggingface.co/someone/mrlmodel · from hugging face"],
  );
});

test("three related papers are shown, and More shows the rest", () => {
  const nodes = paperDetails(fakeDocument(), MRL, { relatedLimit: 10 });
  const items = nodes.find((node) => node.className === "related").children;
  assert.deepEqual(
    items.map((item) => ("hidden" in item.attributes ? "hidden" : item.children[0].textContent)),
    ["One", "Two", "Three", "hidden", "hidden"],
  );
  const more = nodes.find((node) => node.className === "link more");
  assert.equal(more.attributes["aria-expanded"], "false");
  assert.equal(more.attributes["aria-controls"], "paperlens-related");
});

test("with three related papers or fewer there is no More button", () => {
  const paper = { ...MRL, related: MRL.related.slice(0, 3) };
  const nodes = paperDetails(fakeDocument(), paper, { relatedLimit: 10 });
  assert.ok(!nodes.some((node) => node.className === "link more"));
  assert.ok(!text(nodes).includes("undefined"), text(nodes));
});
