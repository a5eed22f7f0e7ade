import { wordList } from './words.js';

/** Product categories of 07 §2.4 tables, each with its own price range, margin and shipping weight. */

export interface Category {
  name: string;
  /** Short code used in SKUs. */
  code: string;
  /** Share of the catalogue. */
  weight: number;
  /** Price range in whole euros. */
  minPrice: number;
  maxPrice: number;
  /** Cost as a fraction of price. */
  minCostRatio: number;
  maxCostRatio: number;
  minWeightKg: number;
  maxWeightKg: number;
  /** Whether product names carry a colour (`Navy Hoodie`, not `Navy Cookbook`). */
  coloured: boolean;
  items: readonly string[];
}

export const CATEGORIES: readonly Category[] = [
  {
    name: 'Electronics',
    code: 'ELE',
    weight: 0.2,
    minPrice: 19,
    maxPrice: 1999,
    minCostRatio: 0.7,
    maxCostRatio: 0.85,
    minWeightKg: 0.1,
    maxWeightKg: 8,
    coloured: false,
    items: wordList(`
      Wireless Headphones | Bluetooth Speaker | Smartwatch | USB-C Charger | Mechanical Keyboard |
      Wireless Mouse | 27" Monitor | Portable SSD | Action Camera | E-Reader | Webcam | Power Bank`),
  },
  {
    name: 'Clothing',
    code: 'CLO',
    weight: 0.22,
    minPrice: 9,
    maxPrice: 199,
    minCostRatio: 0.35,
    maxCostRatio: 0.55,
    minWeightKg: 0.1,
    maxWeightKg: 1.5,
    coloured: true,
    items: wordList(`
      T-Shirt | Hoodie | Jeans | Rain Jacket | Sneakers | Wool Sweater | Chinos | Dress Shirt | Beanie |
      Scarf`),
  },
  {
    name: 'Home & Garden',
    code: 'HOM',
    weight: 0.18,
    minPrice: 4,
    maxPrice: 499,
    minCostRatio: 0.45,
    maxCostRatio: 0.65,
    minWeightKg: 0.2,
    maxWeightKg: 25,
    coloured: true,
    items: wordList(`
      Table Lamp | Throw Pillow | Garden Hose | Plant Pot | Cookware Set | Coffee Grinder |
      Bath Towel Set | Storage Basket | Patio Chair | Pruning Shears`),
  },
  {
    name: 'Sports & Outdoors',
    code: 'SPO',
    weight: 0.15,
    minPrice: 9,
    maxPrice: 799,
    minCostRatio: 0.5,
    maxCostRatio: 0.7,
    minWeightKg: 0.1,
    maxWeightKg: 15,
    coloured: true,
    items: wordList(`
      Yoga Mat | Running Shoes | Trekking Poles | Camping Tent | Water Bottle | Cycling Helmet |
      Dumbbell Set | Sleeping Bag | Fitness Tracker | Backpack 30L`),
  },
  {
    name: 'Books & Media',
    code: 'BOO',
    weight: 0.13,
    minPrice: 4,
    maxPrice: 79,
    minCostRatio: 0.55,
    maxCostRatio: 0.75,
    minWeightKg: 0.1,
    maxWeightKg: 1.2,
    coloured: false,
    items: wordList(`
      Cookbook | Novel | Travel Guide | Board Game | Vinyl Record | Puzzle 1000 pcs | Notebook |
      Audiobook Card | Children's Book | Graphic Novel`),
  },
  {
    name: 'Beauty & Health',
    code: 'BEA',
    weight: 0.12,
    minPrice: 3,
    maxPrice: 129,
    minCostRatio: 0.3,
    maxCostRatio: 0.5,
    minWeightKg: 0.05,
    maxWeightKg: 1,
    coloured: false,
    items: wordList(`
      Face Cream | Shampoo | Electric Toothbrush | Sunscreen SPF 50 | Hair Dryer | Perfume | Lip Balm |
      Vitamin D3 | Body Lotion | Beard Trimmer`),
  },
];

/** URL slug of a category name (`Home & Garden` → `home-garden`), for landing pages. */
export function categorySlug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}
