/**
 * `window.injectedWeb3` keys of the wallets known to work with Bittensor hotkeys (chain.md §5).
 * All follow the `@polkadot/extension-inject` contract, so `web3Enable` needs no special case;
 * the names let the UI say which wallet it found and recommend the Bittensor one.
 */
export const BITTENSOR_WALLET_NAME = '@opentensor/bittensor-extension';

export const KNOWN_WALLETS: Readonly<Record<string, string>> = {
  [BITTENSOR_WALLET_NAME]: 'Bittensor Wallet',
  'polkadot-js': 'polkadot{.js} (or Nova Wallet)',
  talisman: 'Talisman',
  'subwallet-js': 'SubWallet',
};

/**
 * The development keys the page offers on the devnet: derivations of the public development phrase,
 * so anyone can sign with them, and they are refused on a real network.
 */
export const MINER_DEV_ACCOUNT_URI = '//Volunteer';
export const VALIDATOR_DEV_ACCOUNT_URI = '//Volunteer//validator';
