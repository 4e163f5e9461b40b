// Root Jest config: every package and lab that has its own jest.config.js.
const fs = require('node:fs');
const path = require('node:path');

const projects = ['packages', 'labs'].flatMap((group) => {
  const dir = path.join(__dirname, group);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((name) => path.join(dir, name, 'jest.config.js'))
    .filter((file) => fs.existsSync(file));
});

projects.push(path.join(__dirname, 'tools', 'jest.config.js'));

module.exports = { projects };
