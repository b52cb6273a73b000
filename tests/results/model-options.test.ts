// model-options.test -- a run's model options read back from results.json:
// absent mergeVersions (older results) is off, and what allcounts records
// reads back the same.

import { resolveOptions } from '../../harness/persistency/model';
import { modelOptions, recordedModelOptions } from '../../harness/results/model-options';
import { loadFixture } from '../report/fixture';

describe('modelOptions', () => {
  it('reads results without mergeVersions as the complete model', () => {
    const { options } = loadFixture();
    expect(options).not.toHaveProperty('mergeVersions');
    expect(modelOptions(options)).toEqual({ maxStates: options.maxStates, seed: options.seed, mergeVersions: false });
  });

  it('records the merge only when on, and reads back what it recorded', () => {
    const off = resolveOptions({ maxStates: 8, seed: 3 });
    const on = resolveOptions({ maxStates: 8, seed: 3, mergeVersions: true });
    expect(recordedModelOptions(off)).toEqual({ maxStates: 8, seed: 3 });
    expect(recordedModelOptions(on)).toEqual({ maxStates: 8, seed: 3, mergeVersions: true });
    expect(modelOptions(recordedModelOptions(off))).toEqual(off);
    expect(modelOptions(recordedModelOptions(on))).toEqual(on);
  });
});
