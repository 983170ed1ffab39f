// The dashboard's entry point: a hash router between the instance list (#/?filters), an
// instance's page (#/instances/<id>), the entity list (#/entities?filters) and an entity's
// page (#/entities/<name>/<key>). The page's own query string (?code=…) is left alone.

import { createApi } from "./api.js";
import { entityFiltersFromParams, entityFiltersToParams, mountEntitiesPage } from "./entities.js";
import { mountEntityPage } from "./entity.js";
import { mountInstancePage } from "./instance.js";
import { filtersFromParams, filtersToParams, mountListPage } from "./list.js";

const api = createApi();
const root = document.getElementById("main");
let stop = () => {};
/** The lists' hashes, so that "Instances" and "Entities" go back to the filters last used. */
let lastListHash = "#/";
let lastEntitiesHash = "#/entities";

const hrefOf = (id) => `#/instances/${encodeURIComponent(id)}`;
const entityHref = (name, key) => `#/entities/${encodeURIComponent(name)}/${encodeURIComponent(key)}`;
const listHref = () => lastListHash;
const entitiesHref = () => lastEntitiesHash;
const navigate = (hash) => {
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
};

function decode(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Marks the header's link of the current section. */
function markSection(section) {
  for (const link of document.querySelectorAll(".top-nav a")) {
    if (link.dataset.section === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function route() {
  stop();
  const hash = window.location.hash || "#/";
  const query = (h) => new URLSearchParams(h.includes("?") ? h.slice(h.indexOf("?") + 1) : "");
  const instance = /^#\/instances\/([^?]+)$/.exec(hash);
  const entity = /^#\/entities\/([^/?]+)\/([^?]+)$/.exec(hash);
  if (instance) {
    const id = decode(instance[1]);
    markSection("instances");
    document.title = `${id} · Perdure`;
    stop = mountInstancePage(root, { api, id, hrefOf, listHref, navigate });
  } else if (entity) {
    const [name, key] = [decode(entity[1]), decode(entity[2])];
    markSection("entities");
    document.title = `${name}@${key} · Perdure`;
    stop = mountEntityPage(root, { api, name, key, hrefOf, entityHref, listHref: entitiesHref });
  } else if (/^#\/entities\/?(\?|$)/.test(hash)) {
    lastEntitiesHash = hash;
    markSection("entities");
    document.title = "Entities · Perdure";
    stop = mountEntitiesPage(root, {
      api,
      filters: entityFiltersFromParams(query(hash)),
      entityHref,
      setFilters: (filters) => {
        const params = entityFiltersToParams(filters).toString();
        navigate(params ? `#/entities?${params}` : "#/entities");
      },
    });
  } else {
    lastListHash = hash;
    markSection("instances");
    document.title = "Instances · Perdure";
    stop = mountListPage(root, {
      api,
      filters: filtersFromParams(query(hash)),
      hrefOf,
      setFilters: (filters) => {
        const params = filtersToParams(filters).toString();
        navigate(params ? `#/?${params}` : "#/");
      },
    });
  }
}

window.addEventListener("hashchange", route);
route();
