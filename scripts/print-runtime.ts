// First line of `npm test`: which Node runs the suite. The project brings Node 24 itself (the
// `node` devDependency); a different major here means PATH is not what npm scripts set up.
const major = Number(process.versions.node.split(".")[0]);
console.log(`runtime: Node.js ${process.version} (${process.execPath})`);
if (major !== 24) {
  console.error(
    `runtime: expected Node.js 24, the Dockerfile's base image major; run through npm so node_modules/.bin comes first`,
  );
  process.exit(1);
}
