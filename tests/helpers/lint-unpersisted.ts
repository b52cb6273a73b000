// lint-unpersisted -- the allcounts options of a user run of
// tests/fixtures/lint_unpersisted.c: three appends to log.pm, one of whose
// stores is planted never to be persisted, with reports in ./reports.

import { fixture } from '../fixtures';

export const lintUnpersisted = fixture('lint_unpersisted');

export const lintUnpersistedOptions = [
  '--cmd',
  `${lintUnpersisted} append log.pm 3`,
  '--pm',
  'log.pm',
  '--setup',
  `${lintUnpersisted} init {file}`,
  '--recover',
  `${lintUnpersisted} check {file}`,
  '-o',
  'reports',
];
