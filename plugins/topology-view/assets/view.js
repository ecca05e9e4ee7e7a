// tatsu's topology view: the topology app's switches, links and hosts as an SVG graph, kept live over the
// WebSocket WS_PATH (messages: plugins/topology-view/src/mirror.rs). Standard DOM and SVG only.
//
// Layout: each connected component is placed by PivotMDS (Brandes and Pich: breadth-first distances to a few
// pivots, double-centred, projected on their two main axes; fast and fold-free on grids and lines), then
// refined by a spring embedder whose repulsion only looks at nearby nodes (a spatial hash), for a fixed number of
// iterations; components are packed in rows. Small changes only place and relax the new nodes, so the picture
// stays put while links come and go.
"use strict";
(() => {
  const WS_PATH = "/topology-view/ws";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const SPACING = 60; // the length an edge should have, in drawing units
  const FULL_ITERATIONS = 50;
  const LOCAL_ITERATIONS = 40;

  // The bearer token, if the page was opened as /?access_token=TOKEN (see the app's documentation).
  const token = new URLSearchParams(location.search).get("access_token");

  const $ = (id) => document.getElementById(id);
  const svg = $("graph");
  const viewport = $("viewport");
  const layers = { links: $("links"), hosts: $("hosts"), switches: $("switches") };

  // The topology: switches by dpid (16 hex digits) with their ports, links by key, hosts by MAC.
  const switches = new Map(); // dpid -> {dpid, ports: Map(port_no -> port), x, y, placed, el}
  const links = new Map(); // "A:p-B:q" -> {key, src: {dpid, port}, dst: {dpid, port}, el}
  const hosts = new Map(); // mac -> {host, el}
  const adjacent = new Map(); // dpid -> Map(peer dpid -> links either way between them)

  // What the benchmark and the browser test read.
  // Times are performance.now() values (milliseconds since the page's navigation started).
  const stats = { messages: 0, snapshots: 0, lastMessageAt: 0, lastRenderAt: 0, snapshotAt: 0, snapshotApplyMs: 0, snapshotBytes: 0,
    layouts: 0, lastLayoutMs: 0, firstLayoutAt: 0 };
  window.topologyView = { stats, switches, links, hosts };

  // ------------------------------------------------------------------------------------------------ model

  function parseEnd(text) {
    const colon = text.lastIndexOf(":");
    return { dpid: text.slice(0, colon), port: Number(text.slice(colon + 1)) };
  }

  function setSwitch(data) {
    let sw = switches.get(data.dpid);
    const isNew = !sw;
    if (isNew) {
      sw = { dpid: data.dpid, ports: new Map(), x: 0, y: 0, placed: false, fresh: true, el: null };
      switches.set(data.dpid, sw);
      structureChanged(1);
    }
    sw.ports = new Map(data.ports.map((port) => [port.port_no, port]));
    drawSwitch(sw);
    if (isNew && adjacent.has(sw.dpid)) {
      // Links that arrived before their switch are drawn now.
      for (const link of links.values()) if (link.src.dpid === sw.dpid || link.dst.dpid === sw.dpid) drawLink(link);
    }
  }

  function deleteSwitch(dpid) {
    const sw = switches.get(dpid);
    if (!sw) return;
    for (const link of [...links.values()]) if (link.src.dpid === dpid || link.dst.dpid === dpid) deleteLink(link.key);
    for (const [mac, entry] of [...hosts]) if (entry.host.at.dpid === dpid) deleteHost(mac);
    sw.el?.remove();
    switches.delete(dpid);
    if (selected?.kind === "switch" && selected.id === dpid) closePanel();
    structureChanged(1);
  }

  function setPort(dpid, port) {
    const sw = switches.get(dpid);
    if (!sw) return;
    sw.ports.set(port.port_no, port);
    drawSwitch(sw);
  }

  function deletePort(dpid, portNo) {
    const sw = switches.get(dpid);
    if (!sw) return;
    sw.ports.delete(portNo);
    drawSwitch(sw);
  }

  function addLink(key) {
    if (links.has(key)) return;
    const [src, dst] = key.split("-").map(parseEnd);
    const link = { key, src, dst, el: null };
    links.set(key, link);
    adjust(src.dpid, dst.dpid, 1);
    if (!links.has(reverseKey(link))) structureChanged(1);
    drawLink(link);
  }

  function reverseKey(link) {
    return `${link.dst.dpid}:${link.dst.port}-${link.src.dpid}:${link.src.port}`;
  }

  function deleteLink(key) {
    const link = links.get(key);
    if (!link) return;
    link.el?.remove();
    links.delete(key);
    adjust(link.src.dpid, link.dst.dpid, -1);
    if (!links.has(reverseKey(link))) structureChanged(1);
    if (selected?.kind === "link" && selected.id === key) closePanel();
  }

  // Counts the links between a and b (either way) in both switches' adjacency.
  function adjust(a, b, delta) {
    for (const [from, to] of [[a, b], [b, a]]) {
      const peers = adjacent.get(from) || new Map();
      const count = (peers.get(to) || 0) + delta;
      if (count > 0) peers.set(to, count); else peers.delete(to);
      if (peers.size) adjacent.set(from, peers); else adjacent.delete(from);
    }
  }

  function setHost(host) {
    const entry = hosts.get(host.mac) || { host: null, el: null };
    entry.host = { ...host, at: parseEnd(host.port) };
    hosts.set(host.mac, entry);
    drawHost(entry);
  }

  function deleteHost(mac) {
    const entry = hosts.get(mac);
    if (!entry) return;
    entry.el?.remove();
    hosts.delete(mac);
    if (selected?.kind === "host" && selected.id === mac) closePanel();
  }

  function applySnapshot(message) {
    const dpids = new Set(message.switches.map((sw) => sw.dpid));
    const keys = new Set(message.links);
    const macs = new Set(message.hosts.map((host) => host.mac));
    for (const key of [...links.keys()]) if (!keys.has(key)) deleteLink(key);
    for (const mac of [...hosts.keys()]) if (!macs.has(mac)) deleteHost(mac);
    for (const dpid of [...switches.keys()]) if (!dpids.has(dpid)) deleteSwitch(dpid);
    message.switches.forEach(setSwitch);
    message.links.forEach(addLink);
    message.hosts.forEach(setHost);
    stats.snapshots += 1;
  }

  function apply(message) {
    switch (message.type) {
      case "snapshot": return applySnapshot(message);
      case "switch_add": return setSwitch(message.switch);
      case "switch_delete": return deleteSwitch(message.dpid);
      case "port_add": case "port_modify": return setPort(message.dpid, message.port);
      case "port_delete": return deletePort(message.dpid, message.port_no);
      case "link_add": return addLink(message.link);
      case "link_delete": return deleteLink(message.link);
      case "host_add": case "host_move": return setHost(message.host);
      case "host_delete": return deleteHost(message.mac);
      default: console.warn("topology view: unknown message", message.type);
    }
  }

  // ---------------------------------------------------------------------------------------------- drawing

  function element(name, attributes, parent) {
    const el = document.createElementNS(SVG_NS, name);
    for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, value);
    if (parent) parent.appendChild(el);
    return el;
  }

  const shortDpid = (dpid) => dpid.replace(/^0+(?=.)/, "");

  function drawSwitch(sw) {
    if (!sw.el) {
      sw.el = element("g", { class: "switch", "data-dpid": sw.dpid }, layers.switches);
      element("circle", { r: 8 }, sw.el);
      element("text", { x: 10, y: -8 }, sw.el).textContent = shortDpid(sw.dpid);
      element("title", {}, sw.el).textContent = `switch ${sw.dpid}`;
      if (!sw.placed) placeNew(sw);
      positionSwitch(sw);
    }
    const down = [...sw.ports.values()].filter((port) => !port.live).length;
    sw.el.classList.toggle("degraded", down > 0);
  }

  function drawLink(link) {
    const a = switches.get(link.src.dpid);
    const b = switches.get(link.dst.dpid);
    if (!a || !b) return; // drawn once both switches are known
    if (!link.el) {
      link.el = element("line", { class: "link", "data-link": link.key }, layers.links);
      element("title", {}, link.el).textContent = `${link.key.replace("-", " → ")}`;
    }
    positionLink(link);
  }

  function drawHost(entry) {
    if (!entry.el) {
      entry.el = element("g", { class: "host", "data-mac": entry.host.mac }, layers.hosts);
      element("line", { x1: 0, y1: 0 }, entry.el);
      element("rect", { x: -5, y: -5, width: 10, height: 10 }, entry.el);
      element("text", { x: 7, y: 4 }, entry.el);
      element("title", {}, entry.el);
    }
    // Its IPv4 address if the topology app had seen one, else the MAC address without its leading zero bytes.
    entry.el.querySelector("text").textContent = entry.host.ipv4[0] || entry.host.mac.replace(/^(00:)+(?=..)/, "");
    entry.el.querySelector("title").textContent = `host ${entry.host.mac}`;
    positionHost(entry);
  }

  function positionSwitch(sw) {
    sw.el.setAttribute("transform", `translate(${sw.x.toFixed(1)},${sw.y.toFixed(1)})`);
  }

  function positionLink(link) {
    const a = switches.get(link.src.dpid);
    const b = switches.get(link.dst.dpid);
    if (!a || !b || !link.el) return;
    // Each direction is drawn a little to its right, so that both directions of a cable can be seen and clicked.
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const length = Math.hypot(dx, dy) || 1;
    const ox = (-dy / length) * 2.5;
    const oy = (dx / length) * 2.5;
    link.el.setAttribute("x1", (a.x + ox).toFixed(1));
    link.el.setAttribute("y1", (a.y + oy).toFixed(1));
    link.el.setAttribute("x2", (b.x + ox).toFixed(1));
    link.el.setAttribute("y2", (b.y + oy).toFixed(1));
  }

  // A host sits beside its switch, away from the switch's neighbours; several hosts of a switch fan out.
  function positionHost(entry) {
    const sw = switches.get(entry.host.at.dpid);
    if (!sw) {
      entry.el.setAttribute("visibility", "hidden");
      return;
    }
    entry.el.removeAttribute("visibility");
    const siblings = [...hosts.values()].filter((other) => other.host.at.dpid === sw.dpid);
    siblings.sort((p, q) => p.host.mac.localeCompare(q.host.mac));
    const index = siblings.indexOf(entry);
    let cx = 0;
    let cy = 0;
    for (const peer of neighbours(sw.dpid)) {
      cx += peer.x - sw.x;
      cy += peer.y - sw.y;
    }
    const away = cx === 0 && cy === 0 ? -Math.PI / 2 : Math.atan2(-cy, -cx);
    const angle = away + (index - (siblings.length - 1) / 2) * 0.45;
    const distance = SPACING * 0.55;
    const x = sw.x + Math.cos(angle) * distance;
    const y = sw.y + Math.sin(angle) * distance;
    entry.el.setAttribute("transform", `translate(${x.toFixed(1)},${y.toFixed(1)})`);
    const line = entry.el.querySelector("line");
    line.setAttribute("x2", (sw.x - x).toFixed(1));
    line.setAttribute("y2", (sw.y - y).toFixed(1));
  }

  // The placed switches linked to dpid.
  function neighbours(dpid) {
    const peers = adjacent.get(dpid);
    if (!peers) return [];
    return [...peers.keys()].map((peer) => switches.get(peer)).filter((peer) => peer && peer.placed && peer.dpid !== dpid);
  }

  function positionAll() {
    for (const sw of switches.values()) positionSwitch(sw);
    for (const link of links.values()) positionLink(link);
    for (const entry of hosts.values()) positionHost(entry);
  }

  // ----------------------------------------------------------------------------------------------- layout

  let changesSinceFull = 0;
  let everLaidOut = false;
  let layoutTimer = 0;
  let layoutDeadline = 0;

  // Schedules a layout shortly after the changes stop (but at most a second after the first of them).
  function structureChanged(count) {
    changesSinceFull += count;
    const now = performance.now();
    if (!layoutTimer) layoutDeadline = now + 1000;
    clearTimeout(layoutTimer);
    layoutTimer = setTimeout(runLayout, Math.max(0, Math.min(120, layoutDeadline - now)));
  }

  // A switch without a position yet: beside its placed neighbours, or below the drawing.
  function placeNew(sw) {
    const peers = neighbours(sw.dpid);
    if (peers.length) {
      sw.x = peers.reduce((sum, peer) => sum + peer.x, 0) / peers.length + (Math.random() - 0.5) * SPACING * 0.6;
      sw.y = peers.reduce((sum, peer) => sum + peer.y, 0) / peers.length + (Math.random() - 0.5) * SPACING * 0.6;
    } else {
      // Below the drawing (a burst of new switches is laid out properly moments later).
      const box = bounds();
      sw.x = box.empty ? 0 : box.minX + Math.random() * Math.max(box.maxX - box.minX, SPACING);
      sw.y = box.empty ? 0 : box.maxY + SPACING;
    }
    sw.placed = true;
  }

  function runLayout() {
    layoutTimer = 0;
    const started = performance.now();
    const nodes = [...switches.values()];
    const edges = undirectedEdges();
    const fresh = new Set(nodes.filter((sw) => sw.fresh));
    for (const sw of fresh) sw.fresh = false;
    // A full layout once a tenth of the graph has changed since the last one; else new switches find their place
    // among the others, which stay where they are; a link alone moves nothing.
    if (!everLaidOut || changesSinceFull > 0.1 * (nodes.length + edges.length)) {
      fullLayout(nodes, edges);
      everLaidOut = true;
      changesSinceFull = 0;
      positionAll();
      if (!userMoved) fit();
    } else if (fresh.size) {
      relax(nodes, edges, LOCAL_ITERATIONS, SPACING / 3, (sw) => fresh.has(sw));
      positionAll();
    } else {
      return;
    }
    stats.layouts += 1;
    stats.lastLayoutMs = performance.now() - started;
    if (stats.layouts === 1) stats.firstLayoutAt = performance.now();
  }

  function undirectedEdges() {
    const seen = new Set();
    const out = [];
    for (const link of links.values()) {
      const a = switches.get(link.src.dpid);
      const b = switches.get(link.dst.dpid);
      if (!a || !b || a === b) continue;
      const key = a.dpid < b.dpid ? `${a.dpid} ${b.dpid}` : `${b.dpid} ${a.dpid}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push([a, b]);
    }
    return out;
  }

  function fullLayout(nodes, edges) {
    const index = new Map(nodes.map((sw, i) => [sw, i]));
    const adjacency = nodes.map(() => []);
    for (const [a, b] of edges) {
      adjacency[index.get(a)].push(index.get(b));
      adjacency[index.get(b)].push(index.get(a));
    }
    // Connected components, largest first.
    const component = new Int32Array(nodes.length).fill(-1);
    const components = [];
    for (let start = 0; start < nodes.length; start++) {
      if (component[start] >= 0) continue;
      const members = [start];
      component[start] = components.length;
      for (let head = 0; head < members.length; head++) {
        for (const next of adjacency[members[head]]) {
          if (component[next] < 0) {
            component[next] = components.length;
            members.push(next);
          }
        }
      }
      components.push(members);
    }
    components.sort((p, q) => q.length - p.length || nodes[p[0]].dpid.localeCompare(nodes[q[0]].dpid));
    const boxes = components.map((members) => layOutComponent(members, adjacency, nodes, edges));
    pack(boxes, nodes);
    for (const sw of nodes) sw.placed = true;
  }

  // Lays out one component around (0, 0); returns its members and bounding box.
  function layOutComponent(members, adjacency, nodes, edges) {
    const n = members.length;
    const local = new Map(members.map((global, i) => [global, i]));
    const adj = members.map((global) => adjacency[global].map((peer) => local.get(peer)));
    const xy = n >= 3 ? pivotMds(adj) : [new Float64Array([0, SPACING].slice(0, n)), new Float64Array(n)];
    members.forEach((global, i) => {
      nodes[global].x = xy[0][i];
      nodes[global].y = xy[1][i];
    });
    if (n >= 3) {
      const set = new Set(members.map((global) => nodes[global]));
      const own = edges.filter(([a]) => set.has(a));
      relax([...set], own, FULL_ITERATIONS, SPACING, () => true);
    }
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (const global of members) {
      const sw = nodes[global];
      minX = Math.min(minX, sw.x); maxX = Math.max(maxX, sw.x);
      minY = Math.min(minY, sw.y); maxY = Math.max(maxY, sw.y);
    }
    return { members, minX, minY, maxX, maxY };
  }

  function bfs(adj, source) {
    const distance = new Float64Array(adj.length).fill(-1);
    const queue = new Int32Array(adj.length);
    let head = 0, tail = 0;
    queue[tail++] = source;
    distance[source] = 0;
    while (head < tail) {
      const node = queue[head++];
      for (const next of adj[node]) {
        if (distance[next] < 0) {
          distance[next] = distance[node] + 1;
          queue[tail++] = next;
        }
      }
    }
    return distance;
  }

  // PivotMDS: coordinates from the double-centred squared distances to k pivots chosen far apart, on the two
  // main axes of that n x k matrix (power iteration on its k x k Gram matrix); scaled so edges average SPACING.
  function pivotMds(adj) {
    const n = adj.length;
    const k = Math.min(n, 12);
    const columns = [];
    const nearest = new Float64Array(n).fill(Infinity);
    let pivot = bfs(adj, 0).reduce((best, d, i, all) => (d > all[best] ? i : best), 0);
    for (let c = 0; c < k; c++) {
      const distance = bfs(adj, pivot);
      columns.push(distance);
      let far = 0;
      for (let i = 0; i < n; i++) {
        nearest[i] = Math.min(nearest[i], distance[i]);
        if (nearest[i] > nearest[far]) far = i;
      }
      pivot = far;
    }
    // C[i][c] = -1/2 (d² - row mean - column mean + grand mean), stored by column.
    const rowMean = new Float64Array(n);
    const colMean = new Float64Array(k);
    let grand = 0;
    for (let c = 0; c < k; c++) {
      for (let i = 0; i < n; i++) {
        const squared = columns[c][i] * columns[c][i];
        columns[c][i] = squared;
        rowMean[i] += squared / k;
        colMean[c] += squared / n;
        grand += squared / (n * k);
      }
    }
    for (let c = 0; c < k; c++) {
      for (let i = 0; i < n; i++) columns[c][i] = -0.5 * (columns[c][i] - rowMean[i] - colMean[c] + grand);
    }
    const gram = [];
    for (let a = 0; a < k; a++) {
      gram.push(new Float64Array(k));
      for (let b = 0; b < k; b++) {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += columns[a][i] * columns[b][i];
        gram[a][b] = sum;
      }
    }
    const axes = [];
    for (let axis = 0; axis < 2; axis++) {
      let v = new Float64Array(k).map((_, i) => 1 + ((i * 7919 + axis * 104729) % 13) / 13);
      for (let round = 0; round < 100; round++) {
        const next = new Float64Array(k);
        for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) next[a] += gram[a][b] * v[b];
        for (const prior of axes) {
          const dot = next.reduce((sum, x, i) => sum + x * prior[i], 0);
          for (let i = 0; i < k; i++) next[i] -= dot * prior[i];
        }
        const norm = Math.hypot(...next) || 1;
        v = next.map((x) => x / norm);
      }
      axes.push(v);
    }
    const xy = axes.map((v) => {
      const out = new Float64Array(n);
      for (let c = 0; c < k; c++) for (let i = 0; i < n; i++) out[i] += columns[c][i] * v[c];
      return out;
    });
    // A line has no second axis: spread what is left a little, so that the relaxation can open it up if needed.
    let total = 0, count = 0;
    for (let i = 0; i < n; i++) {
      for (const j of adj[i]) {
        if (j > i) {
          total += Math.hypot(xy[0][i] - xy[0][j], xy[1][i] - xy[1][j]);
          count += 1;
        }
      }
    }
    const scale = count && total > 0 ? SPACING / (total / count) : 1;
    for (let i = 0; i < n; i++) {
      xy[0][i] *= scale;
      xy[1][i] = xy[1][i] * scale + ((i * 37) % 11 - 5) * 0.01;
    }
    return xy;
  }

  // A spring embedder (Fruchterman-Reingold forces): springs along edges, repulsion between nodes closer than
  // two spacings found through a grid of cells that size, the step limited by a temperature that cools.
  function relax(nodes, edges, iterations, temperature, movable) {
    const n = nodes.length;
    if (n < 2) return;
    const index = new Map(nodes.map((sw, i) => [sw, i]));
    const x = Float64Array.from(nodes, (sw) => sw.x);
    const y = Float64Array.from(nodes, (sw) => sw.y);
    const moves = nodes.map(movable);
    const pairs = edges.map(([a, b]) => [index.get(a), index.get(b)]).filter(([a, b]) => a !== undefined && b !== undefined);
    const cutoff = SPACING * 2; // repulsion reaches this far
    const k2 = SPACING * SPACING;
    const dx = new Float64Array(n);
    const dy = new Float64Array(n);
    const cellOf = new Int32Array(n);
    const order = new Int32Array(n);
    let t = temperature;
    for (let iteration = 0; iteration < iterations; iteration++) {
      dx.fill(0);
      dy.fill(0);
      // The spatial hash: nodes sorted by cell (a counting sort), cells at least `cutoff` wide, and no more
      // cells than about four per node however far the nodes are spread.
      let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
      for (let i = 0; i < n; i++) {
        minX = Math.min(minX, x[i]); maxX = Math.max(maxX, x[i]);
        minY = Math.min(minY, y[i]); maxY = Math.max(maxY, y[i]);
      }
      const cell = Math.max(cutoff, Math.sqrt(((maxX - minX) * (maxY - minY)) / (4 * n)));
      const cols = Math.floor((maxX - minX) / cell) + 1;
      const rows = Math.floor((maxY - minY) / cell) + 1;
      const start = new Int32Array(cols * rows + 1);
      for (let i = 0; i < n; i++) {
        cellOf[i] = Math.floor((x[i] - minX) / cell) * rows + Math.floor((y[i] - minY) / cell);
        start[cellOf[i] + 1] += 1;
      }
      for (let c = 0; c < cols * rows; c++) start[c + 1] += start[c];
      const fill = start.slice(0, cols * rows);
      for (let i = 0; i < n; i++) order[fill[cellOf[i]]++] = i;
      for (let i = 0; i < n; i++) {
        const cx = Math.floor(cellOf[i] / rows);
        const cy = cellOf[i] - cx * rows;
        for (let gx = Math.max(0, cx - 1); gx <= Math.min(cols - 1, cx + 1); gx++) {
          for (let gy = Math.max(0, cy - 1); gy <= Math.min(rows - 1, cy + 1); gy++) {
            const c = gx * rows + gy;
            for (let slot = start[c]; slot < start[c + 1]; slot++) {
              const j = order[slot];
              if (j <= i) continue;
              let ex = x[i] - x[j];
              let ey = y[i] - y[j];
              let d2 = ex * ex + ey * ey;
              if (d2 > cutoff * cutoff) continue;
              if (d2 < 0.01) {
                ex = ((i * 31 + j) % 7) - 3 || 1;
                ey = ((i + j * 17) % 5) - 2 || 1;
                d2 = ex * ex + ey * ey;
              }
              const force = k2 / d2; // = (k² / d) / d, the unit vector's division folded in
              dx[i] += ex * force; dy[i] += ey * force;
              dx[j] -= ex * force; dy[j] -= ey * force;
            }
          }
        }
      }
      for (const [a, b] of pairs) {
        const ex = x[a] - x[b];
        const ey = y[a] - y[b];
        const d = Math.hypot(ex, ey) || 0.01;
        const force = d / SPACING; // = (d² / k) / d
        dx[a] -= ex * force; dy[a] -= ey * force;
        dx[b] += ex * force; dy[b] += ey * force;
      }
      for (let i = 0; i < n; i++) {
        if (!moves[i]) continue;
        const length = Math.hypot(dx[i], dy[i]);
        if (length > 0) {
          const step = Math.min(length, t) / length;
          x[i] += dx[i] * step;
          y[i] += dy[i] * step;
        }
      }
      t *= 0.95;
    }
    nodes.forEach((sw, i) => {
      sw.x = x[i];
      sw.y = y[i];
    });
  }

  // Components in rows, largest first, about as wide as the whole is tall.
  function pack(boxes, nodes) {
    const gap = SPACING * 1.5;
    const area = boxes.reduce((sum, b) => sum + (b.maxX - b.minX + gap) * (b.maxY - b.minY + gap), 0);
    const width = Math.max(Math.sqrt(area) * 1.3, ...boxes.map((b) => b.maxX - b.minX + gap));
    let x = 0, y = 0, rowHeight = 0;
    for (const box of boxes) {
      const w = box.maxX - box.minX + gap;
      const h = box.maxY - box.minY + gap;
      if (x > 0 && x + w > width) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      for (const global of box.members) {
        nodes[global].x += x - box.minX;
        nodes[global].y += y - box.minY;
      }
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
  }

  function bounds() {
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (const sw of switches.values()) {
      if (!sw.placed) continue;
      minX = Math.min(minX, sw.x); maxX = Math.max(maxX, sw.x);
      minY = Math.min(minY, sw.y); maxY = Math.max(maxY, sw.y);
    }
    return { empty: minX === Infinity, minX, minY, maxX, maxY };
  }

  // --------------------------------------------------------------------------------------- zoom and pan

  const view = { k: 1, x: 0, y: 0 };
  let userMoved = false;

  function applyView() {
    viewport.setAttribute("transform", `translate(${view.x.toFixed(1)},${view.y.toFixed(1)}) scale(${view.k})`);
    // Labels only where there is room for them.
    svg.classList.toggle("far", view.k < 0.75);
  }

  function fit() {
    const box = bounds();
    const rect = svg.getBoundingClientRect();
    if (box.empty || !rect.width || !rect.height) return;
    const margin = SPACING;
    const k = Math.min(rect.width / (box.maxX - box.minX + 2 * margin), rect.height / (box.maxY - box.minY + 2 * margin), 2);
    view.k = k;
    view.x = rect.width / 2 - ((box.minX + box.maxX) / 2) * k;
    view.y = rect.height / 2 - ((box.minY + box.maxY) / 2) * k;
    applyView();
  }

  svg.addEventListener("wheel", (event) => {
    event.preventDefault();
    const rect = svg.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const py = event.clientY - rect.top;
    const factor = Math.exp(-event.deltaY * (event.deltaMode === 1 ? 0.05 : 0.0015));
    const k = Math.min(20, Math.max(0.02, view.k * factor));
    view.x = px - ((px - view.x) * k) / view.k;
    view.y = py - ((py - view.y) * k) / view.k;
    view.k = k;
    userMoved = true;
    applyView();
  }, { passive: false });

  let drag = null;
  svg.addEventListener("pointerdown", (event) => {
    drag = { x: event.clientX, y: event.clientY, viewX: view.x, viewY: view.y, moved: false };
    svg.setPointerCapture(event.pointerId);
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const ex = event.clientX - drag.x;
    const ey = event.clientY - drag.y;
    if (!drag.moved && Math.hypot(ex, ey) < 4) return;
    drag.moved = true;
    svg.classList.add("panning");
    view.x = drag.viewX + ex;
    view.y = drag.viewY + ey;
    userMoved = true;
    applyView();
  });
  svg.addEventListener("pointerup", (event) => {
    const wasDrag = drag?.moved;
    drag = null;
    svg.classList.remove("panning");
    if (!wasDrag) select(document.elementFromPoint(event.clientX, event.clientY));
  });
  $("fit").addEventListener("click", () => {
    userMoved = false;
    fit();
  });
  $("relayout").addEventListener("click", () => {
    changesSinceFull = Infinity;
    runLayout();
    userMoved = false;
    fit();
  });
  window.addEventListener("resize", () => {
    if (!userMoved) fit();
  });

  // ------------------------------------------------------------------------------------------- details

  let selected = null; // {kind, id, el, timer}
  const panel = $("panel");
  const details = $("details");
  $("close").addEventListener("click", () => closePanel());

  function closePanel() {
    if (selected) {
      clearInterval(selected.timer);
      selected.el?.classList.remove("selected");
    }
    selected = null;
    panel.hidden = true;
  }

  function select(target) {
    const el = target?.closest?.("[data-dpid], [data-link], [data-mac]");
    closePanel();
    if (!el) return;
    panel.hidden = false;
    el.classList.add("selected");
    if (el.dataset.dpid) {
      selected = { kind: "switch", id: el.dataset.dpid, el };
      showSwitch(el.dataset.dpid);
    } else if (el.dataset.link) {
      selected = { kind: "link", id: el.dataset.link, el };
      showLink(links.get(el.dataset.link));
    } else {
      selected = { kind: "host", id: el.dataset.mac, el };
      showHost(hosts.get(el.dataset.mac).host);
    }
  }

  const escape = (text) => String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const decimal = (dpid) => BigInt(`0x${dpid}`).toString();

  // GET from ofctl-rest (or any route of this host), with the token if the page has one; the one datapath's list.
  async function ofctl(path) {
    const response = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
    return Object.values(body)[0] || [];
  }

  function table(headings, rows) {
    const head = headings.map((h) => `<th>${escape(h)}</th>`).join("");
    const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join("")}</tr>`).join("");
    return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
  }

  async function showSwitch(dpid) {
    const sw = switches.get(dpid);
    details.innerHTML = `<h2>Switch ${escape(dpid)}</h2><p>${sw ? sw.ports.size : 0} ports known to the topology ` +
      `· ${neighbours(dpid).length} neighbours</p><h3>Ports</h3><div id="ports">loading…</div>` +
      `<h3>Flows</h3><div id="flows">loading…</div>`;
    const still = () => selected?.kind === "switch" && selected.id === dpid;
    const dec = decimal(dpid);
    ofctl(`/stats/portdesc/${dec}`).then((ports) => {
      if (!still()) return;
      $("ports").innerHTML = table(["port", "name", "hw_addr", "config", "state"], ports.map((p) => [
        escape(p.port_no), escape(p.name), `<code>${escape(p.hw_addr)}</code>`, escape(p.config), escape(p.state)]));
    }).catch((e) => still() && ($("ports").innerHTML = `<span class="error">${escape(e.message)}</span>`));
    ofctl(`/stats/flow/${dec}`).then((flows) => {
      if (!still()) return;
      $("flows").innerHTML = `${flows.length} flows` + table(["priority", "match", "actions", "packets", "bytes"],
        flows.map((f) => [escape(f.priority), `<code>${escape(JSON.stringify(f.match))}</code>`,
          `<code>${escape(JSON.stringify(f.actions ?? f.instructions))}</code>`, escape(f.packet_count),
          escape(f.byte_count)]));
    }).catch((e) => still() && ($("flows").innerHTML = `<span class="error">${escape(e.message)}</span>`));
  }

  // A link's load: the source port's transmitted and the destination port's received bytes per second, from port
  // statistics polled each second.
  function showLink(link) {
    details.innerHTML = `<h2>Link</h2><p><code>${escape(link.key.replace("-", " → "))}</code></p>` +
      `<div id="load">measuring…</div>`;
    const previous = {};
    const poll = async () => {
      try {
        const [src, dst] = await Promise.all([
          ofctl(`/stats/port/${decimal(link.src.dpid)}/${link.src.port}`),
          ofctl(`/stats/port/${decimal(link.dst.dpid)}/${link.dst.port}`),
        ]);
        if (selected?.kind !== "link" || selected.id !== link.key) return;
        const now = performance.now() / 1000;
        const sample = { at: now, tx: src[0]?.tx_bytes ?? 0, txp: src[0]?.tx_packets ?? 0, rx: dst[0]?.rx_bytes ?? 0,
          rxp: dst[0]?.rx_packets ?? 0 };
        if (previous.sample) {
          const seconds = now - previous.sample.at || 1;
          const rate = (field) => Math.max(0, (sample[field] - previous.sample[field]) / seconds);
          $("load").innerHTML = table(["", "bytes/s", "packets/s", "total bytes"], [
            [`sent at ${escape(shortDpid(link.src.dpid))}:${link.src.port}`, rate("tx").toFixed(0),
              rate("txp").toFixed(1), escape(sample.tx)],
            [`received at ${escape(shortDpid(link.dst.dpid))}:${link.dst.port}`, rate("rx").toFixed(0),
              rate("rxp").toFixed(1), escape(sample.rx)],
          ]);
          $("load").dataset.bytesPerSecond = rate("tx").toFixed(0);
        }
        previous.sample = sample;
      } catch (e) {
        if (selected?.kind === "link" && selected.id === link.key) {
          $("load").innerHTML = `<span class="error">${escape(e.message)}</span>`;
        }
      }
    };
    poll();
    selected.timer = setInterval(poll, 1000);
  }

  // A host, with the addresses the topology app has seen it use by now (the events carry those of its first
  // sighting only).
  async function showHost(host) {
    const render = (shown) => {
      details.innerHTML = `<h2>Host ${escape(shown.mac)}</h2>` + table(["", ""], [
        ["attached to", `<code>${escape(host.port)}</code>`],
        ["IPv4", escape(shown.ipv4.join(", ") || "none seen")],
        ["IPv6", escape(shown.ipv6.join(", ") || "none seen")],
      ]);
    };
    render(host);
    try {
      const response = await fetch(`/v1.0/topology/hosts/${host.at.dpid}`,
        { headers: token ? { Authorization: `Bearer ${token}` } : {} });
      const fresh = (await response.json()).find?.((other) => other.mac === host.mac);
      if (fresh && selected?.kind === "host" && selected.id === host.mac) render(fresh);
    } catch (e) {
      console.warn("topology view: host details", e);
    }
  }

  // ---------------------------------------------------------------------------------------- the socket

  const statusEl = $("status");
  const countsEl = $("counts");
  let retry = 500;

  function showCounts() {
    countsEl.textContent = `${switches.size} switches · ${links.size} links · ${hosts.size} hosts`;
  }

  function connect() {
    const url = new URL(WS_PATH, location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    if (token) url.searchParams.set("access_token", token);
    const socket = new WebSocket(url);
    socket.onopen = () => {
      retry = 500;
      statusEl.textContent = "live";
      statusEl.classList.remove("down");
    };
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (e) {
        return console.warn("topology view: a message that is not JSON", e);
      }
      const started = performance.now();
      apply(message);
      stats.messages += 1;
      stats.lastMessageAt = performance.now();
      if (message.type === "snapshot") {
        stats.snapshotAt = stats.lastMessageAt;
        stats.snapshotApplyMs = stats.lastMessageAt - started;
        stats.snapshotBytes = event.data.length;
      }
      scheduleRender();
    };
    socket.onclose = () => {
      statusEl.textContent = "disconnected: reconnecting";
      statusEl.classList.add("down");
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }

  let renderPending = false;
  function scheduleRender() {
    if (renderPending) return;
    renderPending = true;
    requestAnimationFrame(() => {
      renderPending = false;
      showCounts();
      stats.lastRenderAt = performance.now();
    });
  }

  applyView();
  connect();
})();
