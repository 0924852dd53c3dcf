// Saved views: the runs page's state stored on the server by name, loaded, deleted, and
// linked to (#/?view=NAME opens one; the page's URL, #/?s=..., holds the state itself).
import { api } from "./api.js";
import { h, fill, toast } from "./dom.js";

export function viewsBar(state, readOnly, apply) {
  const box = h("div", { class: "views-bar row" });
  let views = [];
  const render = () => {
    const select = h("select", { class: "view-select" }, h("option", { value: "" }, "saved views…"), views.map((v) => h("option", { value: v.name }, v.name)));
    const name = h("input", { class: "view-name", placeholder: "view name", size: 12 });
    fill(box,
      select,
      h("button", { type: "button", class: "view-load", onclick: () => {
        const v = views.find((x) => x.name === select.value);
        if (v) { location.hash = `#/?view=${encodeURIComponent(v.name)}`; }
      } }, "Open"),
      readOnly ? null : h("button", { type: "button", class: "view-delete", onclick: async () => {
        const v = select.value;
        if (!v || !confirm(`Delete the saved view ${v}?`)) return;
        try { await api.deleteView(v); toast(`View ${v} deleted`); load(); } catch (err) { toast(err.message, true); }
      } }, "Delete"),
      readOnly ? null : h("form", { class: "inline", onsubmit: async (e) => {
        e.preventDefault();
        const n = name.value.trim();
        if (!n) return;
        try { await api.saveView(n, { ...state, offset: 0 }); toast(`View ${n} saved`); load(); } catch (err) { toast(err.message, true); }
      } }, name, h("button", { type: "submit", class: "view-save" }, "Save view")));
  };
  const load = async () => {
    try { views = (await api.views()).views || []; } catch { views = []; }
    render();
  };
  render();
  load();
  return box;
}

// Open the saved view NAME: its state replaces the page's.
export async function openView(name) {
  const { views } = await api.views();
  const v = (views || []).find((x) => x.name === name);
  if (!v) throw new Error(`No saved view named ${name}.`);
  return v.state;
}
