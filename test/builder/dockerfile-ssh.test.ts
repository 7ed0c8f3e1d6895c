// A Dockerfile image's bake `ssh` at build time (werf passes its `ssh` as docker build's --ssh, and without one
// forwards its own agent): the operator's --ssh agent for the same id wins, werf.yaml's paths are made absolute
// against the project, an image without `ssh` gets the build's agents.
import assert from "node:assert/strict";
import { test } from "node:test";
import { dockerfileSsh } from "../../src/builder/render.js";

test("dockerfileSsh: the operator's agents, werf.yaml's ids and project paths", () => {
  const agents = [
    { id: "default", paths: ["/tmp/agent.sock"] },
    { id: "github", paths: ["/home/ci/.ssh/gh"] },
  ];
  assert.deepEqual(dockerfileSsh(undefined, agents, "/p"), ["default=/tmp/agent.sock", "github=/home/ci/.ssh/gh"], "no ssh: the build's agents, as werf forwards its own");
  assert.deepEqual(dockerfileSsh(undefined, [], "/p"), []);
  assert.deepEqual(dockerfileSsh("default", agents, "/p"), ["default=/tmp/agent.sock"], "the operator's agent for the id");
  assert.deepEqual(dockerfileSsh("default", [], "/p"), ["default"], "buildx forwards its own SSH_AUTH_SOCK");
  assert.deepEqual(dockerfileSsh("github=keys/id", agents, "/p"), ["github=/home/ci/.ssh/gh"], "the operator's --ssh wins over werf.yaml's path");
  assert.deepEqual(dockerfileSsh("deploy=keys/a,keys/b", agents, "/p"), ["deploy=/p/keys/a,/p/keys/b"], "werf.yaml's paths, against the project");
});
