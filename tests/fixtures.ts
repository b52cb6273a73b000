// fixtures -- paths of the C programs that `npm ci` builds for the tests.

import { builtProgram } from '../harness/_internals/paths';

export const fixture = (name: string): string => builtProgram(name);
