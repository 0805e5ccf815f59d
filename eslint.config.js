import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'demo/'] },
  // The launcher has no extension, so it is named for ESLint to read it as a module.
  { files: ['bin/airlock'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      // tsc's noUnusedParameters convention: a leading underscore marks a name kept on purpose
      // (a parameter an interface requires, a field dropped from a rest copy).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // Refusing control characters in hostile names and terminal output is deliberate; every hit was such a check.
      'no-control-regex': 'off',
      // typescript-eslint turns it on for .ts only; the .mjs scripts and the launcher get it too.
      'prefer-const': 'error',
    },
  },
);
