// ESLint's flat config. The type-aware checks are TypeScript's own (strict, no unused locals or
// parameters, no implicit returns: see tsconfig.json), because typescript-eslint cannot run on
// TypeScript 7 before 7.1 gives it an API (typescript-eslint/typescript-eslint#10940). ESLint
// checks the JavaScript that tsc emits, with its core rules and nothing to install:
//   npm run lint      (builds, then runs npx eslint@9 on dist/)
export default [
  { ignores: ['node_modules/'] },
  {
    files: ['dist/**/*.js', '*.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { Buffer: 'readonly', console: 'readonly', process: 'readonly', fetch: 'readonly', URL: 'readonly' },
    },
    rules: {
      'no-undef': 'error',
      'no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-unreachable': 'error',
      'no-constant-condition': 'error',
      'no-fallthrough': 'error',
      'no-implicit-coercion': 'error',
      'no-var': 'error',
      'prefer-const': 'error',
      eqeqeq: ['error', 'always'],
      curly: ['error', 'multi-line'],
    },
  },
];
