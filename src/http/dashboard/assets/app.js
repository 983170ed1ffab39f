// The dashboard's entry point: a hash router between the instance list (#/?filters) and
// an instance's page (#/instances/<id>). The page's own query string (?code=…) is left alone.

import { createApi } from "./api.js";
import { mountInstancePage } from "./instance.js";
import { filtersFromParams, filtersToParams, mountListPage } from "./list.js";

const api = createApi();
const root = document.getElementById("main");
let stop = () => {};
/** The list's hash, so that "Instances" goes back to the filters last used. */
let lastListHash = "#/";

const hrefOf = (id) => `#/instances/${encodeURIComponent(id)}`;
const listHref = () => lastListHash;
const navigate = (hash) => {
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
};

function route() {
  stop();
  const hash = window.location.hash || "#/";
  const instance = /^#\/instances\/([^?]+)$/.exec(hash);
  if (instance) {
    let id;
    try {
      id = decodeURIComponent(instance[1]);
    } catch {
      id = instance[1];
    }
    document.title = `${id} · Perdure`;
    stop = mountInstancePage(root, { api, id, hrefOf, listHref, navigate });
    return;
  }
  lastListHash = hash;
  const query = hash.includes("?") ? hash.slice(hash.indexOf("?") + 1) : "";
  document.title = "Instances · Perdure";
  stop = mountListPage(root, {
    api,
    filters: filtersFromParams(new URLSearchParams(query)),
    hrefOf,
    setFilters: (filters) => {
      const params = filtersToParams(filters).toString();
      navigate(params ? `#/?${params}` : "#/");
    },
  });
}

window.addEventListener("hashchange", route);
route();
