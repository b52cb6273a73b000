/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  testTimeout: 120000,
  // The tracer pins itself and its tracee to one CPU; two workers use both cores.
  maxWorkers: 2,
};
