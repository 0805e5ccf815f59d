// @npmcli/arborist ships no types; tree.ts describes the little of it airlock uses.
declare module '@npmcli/arborist';
