// Node entry (CommonJS): the ESM entry has no top-level await, so require() loads it.
'use strict';
module.exports = require('./node.js');
