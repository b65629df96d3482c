// coopreg field mode's service worker (scope /field/): keeps the field page and what it loads,
// so that it opens with no signal. Pages are fetched fresh when there is a signal (and kept);
// without one, the kept copy is served. Nothing but GETs of the shell goes through here: the
// records are sent by the page itself.
"use strict";
const CACHE = "coopreg-field-v1";
const SHELL = ["/field/", "/field/manifest.webmanifest", "/static/field/field.js",
  "/static/field/field.css", "/static/css/app.css", "/static/css/print.css",
  "/static/js/progress.js", "/static/favicon.svg", "/static/icons.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || !SHELL.includes(url.pathname)) return;
  event.respondWith(fetch(request).then((response) => {
    // a login page met after the session ended is not the field page: never kept in its place
    if (response.ok && !response.redirected) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
    }
    return response;
  }).catch(() => caches.match(url.pathname).then((kept) => kept || Response.error())));
});
