import { documentStoreContract } from '../contract/document-store.contract.js';
import { imageStoreContract } from '../contract/image-store.contract.js';
import { storeBackends } from '../support/stores.js';

for (const backend of storeBackends()) {
  documentStoreContract(backend);
  imageStoreContract(backend);
}
