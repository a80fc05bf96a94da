// Plugins: every stored version, upload by drag and drop or file (a hot
// swap, seen at once), removal, and what each plugin describes of itself.
import { api, button, cell, codeCell, element, fill, formatBytes, pretty, say } from "./api.js";

function describeCell(plugin) {
  if (!plugin.description) return cell("");
  const details = element("details", {}, [element("summary", { textContent: "describe" }), element("pre", { textContent: pretty(plugin.description) })]);
  return element("td", {}, [details]);
}

export async function showPlugins() {
  try {
    const { plugins } = await api("/plugins");
    fill(
      "versions",
      plugins.map((plugin) => [
        cell(plugin.name),
        cell(plugin.version),
        cell(plugin.kind),
        cell(plugin.description?.contract ?? ""),
        codeCell(plugin.content_hash.slice(0, 12)),
        cell(formatBytes(plugin.size_bytes)),
        cell(plugin.active ? "active" : "", plugin.load_error ? "bad" : ""),
        describeCell(plugin),
        element("td", {}, [button("Remove", () => removePlugin(plugin.name, plugin.version), "admin")]),
      ]),
      "no plugins yet",
    );
  } catch (error) {
    say("upload-state", error.message, true);
  }
}

async function upload(file) {
  const name = document.getElementById("upload-name").value.trim();
  say("upload-state", `uploading ${file.name}…`);
  try {
    const added = await api(`/plugins${name ? `?name=${encodeURIComponent(name)}` : ""}`, { method: "POST", headers: { "content-type": "application/wasm" }, body: file });
    say("upload-state", `${added.name} version ${added.version} is active${added.already_active ? " (it already was)" : ""}`);
  } catch (error) {
    say("upload-state", error.message, true);
  }
  showPlugins();
}

async function removePlugin(name, version) {
  if (!confirm(`Remove ${name} version ${version}?`)) return;
  try {
    await api(`/plugins/${encodeURIComponent(name)}?version=${version}`, { method: "DELETE" });
    say("upload-state", `removed ${name} version ${version}`);
  } catch (error) {
    say("upload-state", error.message, true);
  }
  showPlugins();
}

const drop = document.getElementById("drop");
drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  const [file] = event.dataTransfer.files;
  if (file) upload(file);
});
document.getElementById("upload-file").addEventListener("change", (event) => {
  const [file] = event.target.files;
  if (file) upload(file);
});
