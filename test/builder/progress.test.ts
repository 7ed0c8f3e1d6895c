// StageTimes: per-stage seconds from buildx's plain progress (single- and multi-target forms, split chunks).
import { test } from "node:test";
import assert from "node:assert/strict";
import { StageTimes } from "../../src/builder/progress.js";

const MULTI = `#0 building with "default" instance using docker driver

#2 [a internal] load build definition from Dockerfile2
#2 DONE 0.0s
#6 [b a 1/2] FROM docker.io/stapel2docker/base-busybox:latest
#6 CACHED
#8 [b a 2/2] RUN sleep 1 && echo x$RANDOM
#8 1.192 x30066
#10 [b b 1/1] RUN echo y$RANDOM
#10 0.218 y26663
#8 [b a 2/2] RUN sleep 1 && echo x$RANDOM
#8 DONE 1.2s
#10 DONE 0.3s
#11 [b] exporting to image
#11 DONE 0.5s
#12 [app--install--git-patch 1/1] RUN <<'EOF'
#12 DONE 0.25s
#13 [app--install 1/2] FROM 127.0.0.1:5000/x:y
#13 DONE 0.1s
#14 [app--install 2/2] RUN <<'EOF'
#14 DONE 2.0s
`;

test("StageTimes: sums DONE times per Dockerfile stage; cached, internal and export vertices count for no stage", () => {
  const t = new StageTimes();
  // fed in awkward chunks
  for (let i = 0; i < MULTI.length; i += 7) t.feed(Buffer.from(MULTI.slice(i, i + 7)));
  assert.equal(t.of("a"), 1.2);
  assert.equal(t.of("b"), 0.3);
  assert.equal(t.of("app--install"), 2.1);
  assert.equal(t.of("app--install--git-patch"), 0.25);
  assert.equal(t.of("internal"), 0);
  assert.deepEqual([...t.all().keys()].sort(), ["a", "app--install", "app--install--git-patch", "b"]);
});
