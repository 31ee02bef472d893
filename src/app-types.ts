export interface AppVariables {
  requestId: string;
}
